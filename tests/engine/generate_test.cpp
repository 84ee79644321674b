// The decode loop on a small random model: token limit, cancellation, the n-gram ban.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "engine/generate.h"
#include "models/deepseek_ocr/random_checkpoint.h"
#include "models/deepseek_ocr/tensor_specs.h"

using namespace folio;

namespace {

class Generate : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = (std::filesystem::temp_directory_path() / ("folio_gen_" + std::to_string(::getpid()))).string();
    DeepseekOcrConfig cfg = deepseek_ocr_preset("tiny");
    cfg.lm.eos = 129279;  // an id the random model never prefers, so runs reach their limit
    write_random_checkpoint(cfg, dir_, 5);
  }
  void SetUp() override {
    be_ = make_backend("cpu");
    model_ = DeepseekOcrModel::load(dir_, *be_);
  }
  static std::string dir_;
  std::unique_ptr<Backend> be_;
  std::unique_ptr<DeepseekOcrModel> model_;
};
std::string Generate::dir_;

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
