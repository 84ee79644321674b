#include "text/stream_decoder.h"

#include "text/byte_level.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

namespace {

const std::string kDir = std::string(FOLIO_SOURCE_DIR) + "/tests/data/tokenizer/";

const folio::Tokenizer& fixture() {
  static const auto t = folio::Tokenizer::from_file(kDir + "tokenizer.json");
  return t;
}

bool valid_utf8(const std::string& s) { return folio::utf8::to_valid(s) == s; }

// The single-byte token ids spelling `text` byte by byte.
std::vector<int32_t> byte_token_ids(const folio::Tokenizer& tok, const std::string& text) {
  std::vector<int32_t> ids;
  for (char c : text) {
    std::string mapped;
    folio::byte_level::encode(std::string(1, c), mapped);
    ids.push_back(tok.token_to_id(mapped).value());
  }
  return ids;
}

TEST(StreamDecoder, NeverSplitsACharacterAcrossPushes) {
  const auto& tok = fixture();
  auto ids = byte_token_ids(tok, "你😀x");  // 3 + 4 + 1 single-byte tokens
  ASSERT_EQ(ids.size(), 8u);
  folio::StreamDecoder dec(tok);
  std::vector<std::string> pieces;
  for (int32_t id : ids) pieces.push_back(dec.push(id));
  EXPECT_EQ(pieces, (std::vector<std::string>{"", "", "你", "", "", "", "😀", "x"}));
  EXPECT_EQ(dec.flush(), "");
}

TEST(StreamDecoder, HoldsPartialBytesAndFlushesReplacement) {
  const auto& tok = fixture();
  auto f0 = byte_token_ids(tok, "\xF0");  // the lead byte of a 4-byte character
  folio::StreamDecoder dec(tok);
  EXPECT_EQ(dec.push(f0[0]), "");
  EXPECT_EQ(dec.pending_bytes(), 1u);
  EXPECT_EQ(dec.flush(), "\xEF\xBF\xBD");  // from_utf8_lossy of a dangling lead byte
  EXPECT_EQ(dec.pending_bytes(), 0u);
  // A lead byte followed by ASCII: the replacement comes out as soon as it is known.
  EXPECT_EQ(dec.push(f0[0]), "");
  EXPECT_EQ(dec.push(*tok.token_to_id("a")), "\xEF\xBF\xBD" "a");
}

TEST(StreamDecoder, ConcatenationEqualsDecodeOnEveryFixtureSequence) {
  const auto& tok = fixture();
  std::ifstream in(kDir + "decode.jsonl");
  size_t rows = 0, bad = 0;
  for (std::string line; std::getline(in, line); ++rows) {
    auto ids = nlohmann::json::parse(line)["ids"].get<std::vector<int32_t>>();
    for (bool skip : {false, true}) {
      folio::StreamDecoder dec(tok, skip);
      std::string all;
      for (int32_t id : ids) {
        std::string piece = dec.push(id);
        if (!valid_utf8(piece)) ++bad;
        all += piece;
      }
      all += dec.flush();
      if (all != tok.decode(ids, skip)) ++bad;
    }
  }
  EXPECT_GE(rows, 500u);
  EXPECT_EQ(bad, 0u);
}

}  // namespace
