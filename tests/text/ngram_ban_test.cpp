#include "text/ngram_ban.h"

#include <fstream>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "support/golden.h"
#include "text/loop_detector.h"

namespace {

using Ids = std::vector<int32_t>;

TEST(NgramBan, MatchesAllGoldenCases) {
  std::string dir = folio::testing::golden_v1_tiny();
  FOLIO_REQUIRE_GOLDEN(dir);
  std::ifstream in(dir + "/rules.json");
  auto rules = nlohmann::json::parse(in);
  const auto& cases = rules.at("ngram");
  ASSERT_EQ(cases.size(), 60u);
  size_t nonempty = 0;
  for (size_t i = 0; i < cases.size(); ++i) {
    const auto& c = cases[i];
    Ids banned = folio::banned_next(c["ids"].get<Ids>(), c["ngram_size"].get<int>(), c["window_size"].get<int>(),
                                    c["whitelist"].get<Ids>());
    EXPECT_EQ(banned, c["banned"].get<Ids>()) << "case " << i;
    nonempty += !banned.empty();
  }
  EXPECT_GT(nonempty, 0u);  // the golden set exercises real bans, not only empty ones
}

TEST(NgramBan, HandCases) {
  // n=3: prefix (1,2) occurred before, followed by 3 and by 4.
  EXPECT_EQ(folio::banned_next({1, 2, 3, 1, 2, 4, 1, 2}, 3, 100, {}), (Ids{3, 4}));
  EXPECT_EQ(folio::banned_next({1, 2, 3, 1, 2, 4, 1, 2}, 3, 100, {4}), (Ids{3}));  // whitelist
  EXPECT_EQ(folio::banned_next({1, 2, 3, 1, 2, 4, 1, 2}, 3, 5, {}), (Ids{4}));     // window drops the first
  EXPECT_EQ(folio::banned_next({1, 2}, 3, 100, {}), Ids{});                          // too short
  EXPECT_EQ(folio::banned_next({5, 5, 5}, 1, 100, {}), (Ids{5}));                    // n=1 bans seen ids
}

TEST(FinishReason, Names) {
  EXPECT_EQ(folio::to_string(folio::FinishReason::stop), "stop");
  EXPECT_EQ(folio::to_string(folio::FinishReason::length), "length");
  EXPECT_EQ(folio::to_string(folio::FinishReason::repetition), "repetition");
  EXPECT_EQ(folio::to_string(folio::FinishReason::cancelled), "cancelled");
  EXPECT_EQ(folio::to_string(folio::FinishReason::error), "error");
}

TEST(LoopDetector, FlagsAPeriodicTailOfTheConfiguredSpan) {
  folio::LoopDetector d(/*max_period=*/8, /*min_span=*/40);
  // 30 distinct ids, then a period-5 unit repeated: flagged once 40 ids of the tail are periodic.
  int flagged_at = -1;
  for (int i = 0; i < 30; ++i) ASSERT_FALSE(d.add(1000 + i));
  for (int i = 0; i < 100 && flagged_at < 0; ++i)
    if (d.add(i % 5)) flagged_at = i;
  EXPECT_EQ(flagged_at, 39);  // the 40th id of the loop completes a 40-long periodic span
  EXPECT_EQ(d.period(), 5);
}

TEST(LoopDetector, IgnoresPeriodsAboveTheLimitAndVariedText) {
  folio::LoopDetector d(/*max_period=*/4, /*min_span=*/40);
  for (int i = 0; i < 200; ++i) EXPECT_FALSE(d.add(i % 7));  // period 7 > max 4
  folio::LoopDetector e(64, 256);
  uint32_t x = 1;
  for (int i = 0; i < 5000; ++i) {
    x = x * 1103515245u + 12345u;
    EXPECT_FALSE(e.add(static_cast<int32_t>((x >> 16) % 5000)));
  }
}

TEST(LoopDetector, SingleTokenRunAndReset) {
  folio::LoopDetector d(64, 256);
  int first = -1;
  for (int i = 0; i < 300 && first < 0; ++i)
    if (d.add(42)) first = i;
  EXPECT_EQ(first, 255);
  EXPECT_EQ(d.period(), 1);
  d.reset();
  EXPECT_FALSE(d.add(42));
}

}  // namespace
