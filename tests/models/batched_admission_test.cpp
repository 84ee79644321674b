// Batched admission on the CPU backend (the GPU tests run the same checks in bf16): pages of
// one geometry encoded in one pass give each page's image block as a pass of its own does, and
// prompts of mixed lengths (with and without an image) prefilled together give the logits and
// the stored keys/values of one forward pass per prompt.

#include <gtest/gtest.h>

#include "core/error.h"
#include "support/admission_checks.h"
#include "support/tiny_checkpoint.h"

using namespace folio;
using namespace folio::testing;

namespace {

class BatchedAdmission : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ck_ = std::make_unique<TinyCheckpoint>("admission", 5); }
  static void TearDownTestSuite() { ck_.reset(); }
  void SetUp() override {
    be_ = make_backend("cpu");
    model_ = DeepseekOcrModel::load(ck_->dir(), *be_);
  }
  static std::unique_ptr<TinyCheckpoint> ck_;
  std::unique_ptr<Backend> be_;
  std::unique_ptr<DeepseekOcrModel> model_;
};
std::unique_ptr<TinyCheckpoint> BatchedAdmission::ck_;

}  // namespace

TEST_F(BatchedAdmission, EncoderBatchMatchesOnePageAtATime) {
  const ViewPixels a = random_page(1), b = random_page(2, 256, 2, 1), c = random_page(3), d = random_page(4, 256, 1, 2);
  EXPECT_LT(encode_batch_error(*model_, {&a, &c}), 1e-4);           // global views only
  EXPECT_LT(encode_batch_error(*model_, {&a, &b, &c, &d}), 1e-4);   // tiled and untiled mixed
}

TEST_F(BatchedAdmission, EncoderRefusesPagesOfDifferentSizes) {
  const ViewPixels a = random_page(1), b = random_page(2, 320);
  EXPECT_FALSE(views_batchable(a, b));
  EXPECT_THROW(model_->encode_batch({&a, &b}), Error);
  const ViewPixels t1 = random_page(3, 256, 1, 1, 128), t2 = random_page(4, 256, 1, 1, 192);
  EXPECT_FALSE(views_batchable(t1, t2));
  EXPECT_TRUE(views_batchable(a, t1));  // an untiled page joins any tile size
}

TEST_F(BatchedAdmission, PrefillOfMixedLengthsMatchesOnePromptAtATime) {
  const ViewPixels p0 = random_page(7), p2 = random_page(8, 256, 2, 1);
  const Tensor i0 = model_->encode(p0), i2 = model_->encode(p2);
  const std::vector<std::vector<int32_t>> prompts{page_prompt(*model_, &p0, 3, 0), page_prompt(*model_, nullptr, 9, 1),
                                                  page_prompt(*model_, &p2, 5, 2)};
  for (bool device_routing : {false, true}) {
    const PrefillComparison c = compare_prefill(*model_, prompts, {&i0, nullptr, &i2}, device_routing);
    EXPECT_LT(c.logits, 1e-4) << "device routing " << device_routing;
    EXPECT_LT(c.kv, 1e-4) << "device routing " << device_routing;
    EXPECT_EQ(c.batched_argmax, c.single_argmax);
  }
}

TEST_F(BatchedAdmission, PrefillOfEqualLengthsMatchesOnePromptAtATime) {
  // Equal lengths take the one-call [B, T, H*D] attention path.
  const ViewPixels p0 = random_page(11), p1 = random_page(12), p2 = random_page(13);
  const Tensor i0 = model_->encode(p0), i1 = model_->encode(p1), i2 = model_->encode(p2);
  const std::vector<std::vector<int32_t>> prompts{page_prompt(*model_, &p0, 4, 0), page_prompt(*model_, &p1, 4, 1),
                                                  page_prompt(*model_, &p2, 4, 2)};
  const PrefillComparison c = compare_prefill(*model_, prompts, {&i0, &i1, &i2}, true);
  EXPECT_LT(c.logits, 1e-4);
  EXPECT_LT(c.kv, 1e-4);
  EXPECT_EQ(c.batched_argmax, c.single_argmax);
}
