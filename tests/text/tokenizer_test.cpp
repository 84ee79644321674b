// Hand-made tokenizer.json cases: merge order, both merge syntaxes, added-token flags, the
// decoder's lossy UTF-8, error messages, and encoding speed.
#include "text/tokenizer.h"

#include <chrono>
#include <cstdio>
#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace {

using nlohmann::json;
using folio::Tokenizer;

json tiny_json() {
  return json::parse(R"({
    "version": "1.0", "truncation": null, "padding": null,
    "added_tokens": [
      {"id": 20, "content": "<x>", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": true},
      {"id": 21, "content": "[L]", "single_word": false, "lstrip": true, "rstrip": false, "normalized": false, "special": false},
      {"id": 22, "content": "[R]", "single_word": false, "lstrip": false, "rstrip": true, "normalized": false, "special": false},
      {"id": 23, "content": "<x>y", "single_word": false, "lstrip": false, "rstrip": false, "normalized": false, "special": false},
      {"id": 24, "content": "kw", "single_word": true, "lstrip": false, "rstrip": false, "normalized": true, "special": false}
    ],
    "normalizer": null,
    "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": false, "trim_offsets": true, "use_regex": true},
    "post_processor": {"type": "TemplateProcessing", "single": [], "pair": [], "special_tokens": {}},
    "decoder": {"type": "ByteLevel", "add_prefix_space": true, "trim_offsets": true, "use_regex": true},
    "model": {"type": "BPE", "dropout": null, "unk_token": null, "continuing_subword_prefix": null,
      "end_of_word_suffix": null, "fuse_unk": false, "byte_fallback": false, "ignore_merges": false,
      "vocab": {"h": 0, "e": 1, "l": 2, "o": 3, "Ġ": 4, "w": 5, "r": 6, "d": 7, "he": 8, "ll": 9,
                "hell": 10, "hello": 11, "Ġw": 12, "or": 13, "Ġwor": 14, "a": 15, "aa": 16, "k": 17,
                "Ã": 18, "©": 19},
      "merges": ["h e", "l l", "he ll", ["hell", "o"], "Ġ w", ["o", "r"], "Ġw or", "a a"]}
  })");
}

Tokenizer tiny() { return Tokenizer::from_json_text(tiny_json().dump(), "tiny.json"); }

using Ids = std::vector<int32_t>;

TEST(Tokenizer, AppliesMergesByRankWithBothSyntaxes) {
  auto t = tiny();
  EXPECT_EQ(t.encode("hello world"), (Ids{11, 14, 2, 7}));
  EXPECT_EQ(t.encode("aaa"), (Ids{16, 15}));  // leftmost pair merges first
  EXPECT_EQ(t.encode("aaaa"), (Ids{16, 16}));
  EXPECT_EQ(t.encode(""), Ids{});
}

TEST(Tokenizer, DropsCharactersMissingFromVocab) {
  EXPECT_EQ(tiny().encode("hzo"), (Ids{0, 3}));  // 'z' has no token and no unk/byte fallback
}

TEST(Tokenizer, MatchesAddedTokensLongestFirstWithFlags) {
  auto t = tiny();
  EXPECT_EQ(t.encode("he<x>he"), (Ids{8, 20, 8}));
  EXPECT_EQ(t.encode("<x>yhe"), (Ids{23, 8}));            // longest match "<x>y" beats "<x>"
  EXPECT_EQ(t.encode("he  [L]he"), (Ids{8, 21, 8}));      // lstrip swallows the spaces before
  EXPECT_EQ(t.encode("he[R]  he"), (Ids{8, 22, 8}));      // rstrip swallows the spaces after
  EXPECT_EQ(t.encode("a kw a"), (Ids{15, 4, 24, 4, 15})); // single word: matches
  EXPECT_EQ(t.encode("akw"), (Ids{15, 17, 5}));           // inside a word: not an added token
}

TEST(Tokenizer, DecodesBytesAndRepairsInvalidUtf8) {
  auto t = tiny();
  EXPECT_EQ(t.decode({11, 14, 2, 7}), "hello world");
  EXPECT_EQ(t.decode({18, 19}), "\xC3\xA9");                 // two byte tokens form "é"
  EXPECT_EQ(t.decode({18}), "\xEF\xBF\xBD");                 // dangling lead byte -> U+FFFD
  EXPECT_EQ(t.decode({19, 0}), "\xEF\xBF\xBDh");             // lone continuation byte
  EXPECT_EQ(t.decode({0, 20, 1}), "h<x>e");
  EXPECT_EQ(t.decode({0, 20, 1}, /*skip_special=*/true), "he");
  EXPECT_EQ(t.decode({0, 999999, 1}), "he");                 // unknown ids are skipped
}

TEST(Tokenizer, LooksUpTokensAndIds) {
  auto t = tiny();
  EXPECT_EQ(t.token_to_id("hello"), 11);
  EXPECT_EQ(t.token_to_id("<x>"), 20);
  EXPECT_FALSE(t.token_to_id("nope").has_value());
  EXPECT_EQ(t.id_to_token(21), "[L]");
  EXPECT_EQ(t.id_to_token(12), "Ġw");
  EXPECT_FALSE(t.id_to_token(-1).has_value());
  EXPECT_EQ(t.vocab_size(), 25u);
  EXPECT_TRUE(t.is_special(20));
  EXPECT_FALSE(t.is_special(21));
}

TEST(Tokenizer, RepairsInvalidUtf8Input) {
  auto t = tiny();
  EXPECT_NO_THROW(t.encode("he\xFF\xC3llo"));
}

std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const folio::Error& e) {
    EXPECT_EQ(e.kind(), folio::ErrorKind::kInvalidInput);
    return e.what();
  }
  return "(no error)";
}

TEST(Tokenizer, ErrorsNameTheFileAndJsonPath) {
  EXPECT_NE(error_of([] { Tokenizer::from_file("/nonexistent/tokenizer.json"); }).find("/nonexistent/tokenizer.json"),
            std::string::npos);
  EXPECT_NE(error_of([] { Tokenizer::from_json_text("{not json", "t.json"); }).find("t.json: not valid JSON"),
            std::string::npos);

  auto with = [](const char* pointer, json value) {
    json j = tiny_json();
    j[json::json_pointer(pointer)] = std::move(value);
    return error_of([&] { Tokenizer::from_json_text(j.dump(), "t.json"); });
  };
  std::string e = with("/normalizer", json{{"type", "NFC"}});
  EXPECT_NE(e.find("t.json: normalizer.type"), std::string::npos) << e;
  EXPECT_NE(e.find("NFC"), std::string::npos) << e;
  e = with("/model/type", "Unigram");
  EXPECT_NE(e.find("model.type"), std::string::npos) << e;
  e = with("/pre_tokenizer", json::parse(R"({"type": "Sequence", "pretokenizers": [{"type": "Metaspace"}]})"));
  EXPECT_NE(e.find("pre_tokenizer.pretokenizers[0].type"), std::string::npos) << e;
  e = with("/pre_tokenizer", json::parse(R"({"type": "Split", "pattern": {"Regex": "("}, "behavior": "Isolated"})"));
  EXPECT_NE(e.find("pre_tokenizer"), std::string::npos) << e;
  e = with("/model/merges/0", "h x");
  EXPECT_NE(e.find("model.merges[0]"), std::string::npos) << e;
  e = with("/added_tokens/0/id", "seven");
  EXPECT_NE(e.find("added_tokens[0].id"), std::string::npos) << e;
  e = with("/decoder", json{{"type", "WordPiece"}});
  EXPECT_NE(e.find("decoder.type"), std::string::npos) << e;
}

TEST(Tokenizer, EmptyNormalizerSequenceAndReplaceAreSupported) {
  json j = tiny_json();
  j["normalizer"] = json::parse(R"({"type": "Sequence", "normalizers": [
      {"type": "Replace", "pattern": {"String": "q"}, "content": "h"}]})");
  auto t = Tokenizer::from_json_text(j.dump(), "t.json");
  EXPECT_EQ(t.encode("qello"), (Ids{11}));
}

TEST(Tokenizer, EncodesAMegabyteQuickly) {
  auto t = Tokenizer::from_file(std::string(FOLIO_SOURCE_DIR) + "/tests/data/tokenizer/tokenizer.json");
  std::string text;
  const char* samples[] = {"The quick brown fox, 2024-06-11: 12345 items.\n", "表格 第三页 结果 文本 ",
                           "<|ref|>text<|/ref|><|det|>[[12, 34, 567, 890]]<|/det|>\n", "  \t\r\nこんにちは世界 ",
                           "<table><tr><td>3.5%</td></tr></table> ", "émoji 😀👍🏽 done. "};
  for (size_t i = 0; text.size() < (1u << 20); ++i) text += samples[(i * 7) % 6];
  auto start = std::chrono::steady_clock::now();
  auto ids = t.encode(text);
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("encoded %zu bytes into %zu ids in %.3f s\n", text.size(), ids.size(), seconds);
  EXPECT_GT(ids.size(), 100000u);
  EXPECT_LT(seconds, 2.0);  // typically ~0.1-0.3 s; generous for a loaded CI machine
  EXPECT_EQ(t.decode(ids), text);
}

}  // namespace
