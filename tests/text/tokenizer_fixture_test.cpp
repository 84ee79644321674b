// Conformance against Hugging Face tokenizers: tests/data/tokenizer/ was produced by
// tools/make_tokenizer_fixture.py (tokenizers 0.23.2). Every string must encode to exactly HF's
// ids and every id sequence must decode to exactly HF's text.
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "text/tokenizer.h"

namespace {

using nlohmann::json;
const std::string kDir = std::string(FOLIO_SOURCE_DIR) + "/tests/data/tokenizer/";

std::vector<json> read_jsonl(const std::string& path) {
  std::ifstream in(path);
  std::vector<json> rows;
  for (std::string line; std::getline(in, line);)
    if (!line.empty()) rows.push_back(json::parse(line));
  return rows;
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

std::string show(const std::vector<int32_t>& ids) {
  std::string s;
  for (int32_t id : ids) s += std::to_string(id) + " ";
  return s;
}

// Encodes every row; returns the number of mismatches (the first few are printed).
size_t count_encode_mismatches(const folio::Tokenizer& tok, const std::vector<json>& rows) {
  size_t bad = 0;
  for (const json& row : rows) {
    auto expected = row["ids"].get<std::vector<int32_t>>();
    auto got = tok.encode(row["t"].get<std::string>());
    if (got != expected && ++bad <= 10)
      ADD_FAILURE() << "text " << row["t"].dump() << "\n  expected " << show(expected) << "\n  got      " << show(got);
  }
  return bad;
}

TEST(TokenizerFixture, EncodesExactlyLikeHuggingFace) {
  auto tok = folio::Tokenizer::from_file(kDir + "tokenizer.json");
  auto rows = read_jsonl(kDir + "encode.jsonl");
  ASSERT_GE(rows.size(), 10000u);
  size_t bad = count_encode_mismatches(tok, rows);
  EXPECT_EQ(bad, 0u) << bad << " of " << rows.size() << " strings encode differently";
}

TEST(TokenizerFixture, VariantPreTokenizerBehaviours) {
  // tokenizer.json with the variant pre-tokenizer (Removed, MergedWithPrevious/Next,
  // Contiguous, invert, String patterns, ByteLevel with regex and prefix space).
  json doc = json::parse(read_file(kDir + "tokenizer.json"));
  doc["pre_tokenizer"] = json::parse(read_file(kDir + "variant_pre_tokenizer.json"));
  auto tok = folio::Tokenizer::from_json_text(doc.dump(), "variant tokenizer");
  auto rows = read_jsonl(kDir + "encode_variant.jsonl");
  ASSERT_GE(rows.size(), 1000u);
  size_t bad = count_encode_mismatches(tok, rows);
  EXPECT_EQ(bad, 0u) << bad << " of " << rows.size() << " strings encode differently";
}

TEST(TokenizerFixture, DecodesExactlyLikeHuggingFace) {
  auto tok = folio::Tokenizer::from_file(kDir + "tokenizer.json");
  auto rows = read_jsonl(kDir + "decode.jsonl");
  ASSERT_GE(rows.size(), 500u);
  size_t bad = 0;
  for (const json& row : rows) {
    auto ids = row["ids"].get<std::vector<int32_t>>();
    std::string with = tok.decode(ids, false), without = tok.decode(ids, true);
    if (with != row["text"].get<std::string>() || without != row["text_skip"].get<std::string>()) {
      if (++bad <= 10)
        ADD_FAILURE() << "ids " << show(ids) << "\n  expected " << row["text"].dump() << " / "
                      << row["text_skip"].dump() << "\n  got      " << json(with).dump() << " / " << json(without).dump();
    }
  }
  EXPECT_EQ(bad, 0u) << bad << " of " << rows.size() << " id sequences decode differently";
}

}  // namespace
