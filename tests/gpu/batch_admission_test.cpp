// Batched admission on the CUDA backend (bf16): the encoder's batched pass, the batched paged
// prefill (both MoE routing paths) and the engine's grouped admission against one page at a
// time, on the tiny random model. Skipped without a device.

#include "engine/batch_engine.h"
#include "gpu/gpu_test_util.h"
#include "support/admission_checks.h"
#include "support/tiny_checkpoint.h"

using namespace folio;
using namespace folio::testing;

namespace {

// bf16 activations: a batched product may take another cuBLAS algorithm than a single one,
// so the two differ by bf16 rounding through every layer.
constexpr double kTol = 3e-2;
// Stored keys/values: max error over rms, where one bf16 rounding step of the largest element
// is already ~3e-2 of the rms.
constexpr double kKvTol = 8e-2;

class GpuBatchedAdmission : public gpu_test::GpuTest {
 protected:
  static void SetUpTestSuite() { ck_ = std::make_unique<TinyCheckpoint>("gpu_admission", 5); }
  static void TearDownTestSuite() { ck_.reset(); }
  void SetUp() override {
    gpu_test::GpuTest::SetUp();
    if (IsSkipped()) return;
    model_ = DeepseekOcrModel::load(ck_->dir(), *be);
  }
  static std::unique_ptr<TinyCheckpoint> ck_;
  std::unique_ptr<DeepseekOcrModel> model_;
};
std::unique_ptr<TinyCheckpoint> GpuBatchedAdmission::ck_;

}  // namespace

TEST_F(GpuBatchedAdmission, EncoderBatchMatchesOnePageAtATime) {
  const ViewPixels a = random_page(1), b = random_page(2, 256, 2, 1), c = random_page(3), d = random_page(4, 256, 1, 2);
  EXPECT_LT(encode_batch_error(*model_, {&a, &c}), kTol);
  EXPECT_LT(encode_batch_error(*model_, {&a, &b, &c, &d}), kTol);
}

TEST_F(GpuBatchedAdmission, PrefillMatchesOnePromptAtATime) {
  const ViewPixels p0 = random_page(7), p1 = random_page(9), p2 = random_page(8, 256, 2, 1);
  const Tensor i0 = model_->encode(p0), i1 = model_->encode(p1), i2 = model_->encode(p2);
  const std::vector<std::vector<int32_t>> mixed{page_prompt(*model_, &p0, 3, 0), page_prompt(*model_, nullptr, 9, 1),
                                                page_prompt(*model_, &p2, 5, 2)};
  const std::vector<std::vector<int32_t>> equal{page_prompt(*model_, &p0, 4, 0), page_prompt(*model_, &p1, 4, 1)};
  for (bool device_routing : {false, true}) {
    for (const auto* prompts : {&mixed, &equal}) {
      const bool is_mixed = prompts == &mixed;
      const std::vector<const Tensor*> images = is_mixed ? std::vector<const Tensor*>{&i0, nullptr, &i2}
                                                         : std::vector<const Tensor*>{&i0, &i1};
      const PrefillComparison c = compare_prefill(*model_, *prompts, images, device_routing);
      SCOPED_TRACE(std::string(is_mixed ? "mixed" : "equal") + " lengths, device routing " +
                   (device_routing ? "on" : "off"));
      EXPECT_LT(c.logits, kTol);
      EXPECT_LT(c.kv, kKvTol);
      for (size_t i = 0; i < prompts->size(); ++i) EXPECT_TRUE(c.same_choice(i, kTol)) << "prompt " << i;
    }
  }
}

TEST_F(GpuBatchedAdmission, GroupedAdmissionGivesTheFirstTokensOfAdmissionAlone) {
  std::vector<std::shared_ptr<const ViewPixels>> pages;
  for (uint32_t i = 0; i < 6; ++i) pages.push_back(std::make_shared<const ViewPixels>(random_page(20 + i, 256, i % 3, 1)));
  pages[3] = nullptr;  // a text-only request in the middle
  auto first_tokens = [&](int max_admit, BatchEngineStats& st) {
    BatchEngineOptions eo;
    eo.max_batch = 8;
    eo.block_size = 16;
    eo.kv_blocks = 64;
    eo.max_context = 128;
    eo.max_admit = max_admit;
    BatchEngine engine(*model_, eo);
    std::vector<int32_t> first(pages.size(), -1);
    for (size_t i = 0; i < pages.size(); ++i) {
      BatchRequest r;
      r.prompt = page_prompt(*model_, pages[i].get(), 2 + int(i), int(i));
      r.pixels = pages[i];
      r.options.max_tokens = 3;
      r.ignore_eos = true;
      r.on_done = [&first, i](GenerateResult&& g) { first[i] = g.tokens.empty() ? -2 : g.tokens[0]; };
      engine.submit(std::move(r));
    }
    engine.run();
    st = engine.stats();
    return first;
  };
  BatchEngineStats grouped, alone;
  const std::vector<int32_t> got = first_tokens(16, grouped), want = first_tokens(1, alone);
  EXPECT_EQ(grouped.admit_groups, 1);
  EXPECT_EQ(alone.admit_groups, 6);
  // The reference margins: each prompt alone through forward().
  std::vector<std::vector<int32_t>> prompts;
  std::vector<Tensor> images(pages.size());
  std::vector<const Tensor*> image_ptrs;
  for (size_t i = 0; i < pages.size(); ++i) {
    prompts.push_back(page_prompt(*model_, pages[i].get(), 2 + int(i), int(i)));
    if (pages[i]) images[i] = model_->encode(*pages[i]);
    image_ptrs.push_back(pages[i] ? &images[i] : nullptr);
  }
  const PrefillComparison c = compare_prefill(*model_, prompts, image_ptrs, true);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_GE(got[i], 0) << "request " << i;
    if (c.single_margin[i] > 2 * kTol * c.single_rms[i]) EXPECT_EQ(got[i], want[i]) << "request " << i;
  }
}
