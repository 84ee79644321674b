// The decode loop on a small random model: token limit, cancellation, the n-gram ban.
#include <set>

#include <gtest/gtest.h>

#include "engine/generate.h"
#include "support/tiny_checkpoint.h"

using namespace folio;

namespace {

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ck_ = std::make_unique<folio::testing::TinyCheckpoint>("gen", 5, folio::testing::kUnreachedEos);
  }
  static void TearDownTestSuite() { ck_.reset(); }
  void SetUp() override {
    be_ = make_backend("cpu");
    model_ = DeepseekOcrModel::load(ck_->dir(), *be_);
  }
  static std::unique_ptr<folio::testing::TinyCheckpoint> ck_;
  std::unique_ptr<Backend> be_;
  std::unique_ptr<DeepseekOcrModel> model_;
};
std::unique_ptr<folio::testing::TinyCheckpoint> Generate::ck_;

}  // namespace

TEST_F(Generate, StopsAtTheTokenLimitWithReasonLength) {
  GenerateOptions o;
  o.max_tokens = 12;
  o.ngram.enabled = false;
  o.detect_loops = false;
  const GenerateResult r = generate(*model_, {0, 10, 11, 12}, nullptr, o);
  EXPECT_EQ(r.tokens.size(), 12u);
  EXPECT_EQ(r.reason, FinishReason::length);
}

TEST_F(Generate, CancellationEndsTheRun) {
  std::atomic<bool> cancel{false};
  GenerateOptions o;
  o.max_tokens = 50;
  o.cancel = &cancel;
  o.on_token = [&](int32_t) { cancel = true; };
  const GenerateResult r = generate(*model_, {0, 10}, nullptr, o);
  EXPECT_EQ(r.reason, FinishReason::cancelled);
  EXPECT_EQ(r.tokens.size(), 1u);
}

TEST_F(Generate, NgramBanLeavesNoRepeatedNgramInsideTheWindow) {
  GenerateOptions o;
  o.max_tokens = 40;
  o.detect_loops = false;
  o.ngram = {true, 2, 40};
  const GenerateResult r = generate(*model_, {0, 10}, nullptr, o);
  std::set<std::pair<int32_t, int32_t>> seen;
  for (size_t i = 1; i < r.tokens.size(); ++i)
    EXPECT_TRUE(seen.insert({r.tokens[i - 1], r.tokens[i]}).second) << "bigram repeated at " << i;
  // Without the ban this random model repeats itself at once.
  o.ngram.enabled = false;
  const GenerateResult free_run = generate(*model_, {0, 10}, nullptr, o);
  std::set<std::pair<int32_t, int32_t>> seen2;
  bool repeated = false;
  for (size_t i = 1; i < free_run.tokens.size(); ++i) repeated |= !seen2.insert({free_run.tokens[i - 1], free_run.tokens[i]}).second;
  EXPECT_TRUE(repeated);
}
