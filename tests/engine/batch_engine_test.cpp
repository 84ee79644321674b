// The continuous-batching engine on the CPU backend against the one-sequence decode loop:
// the same tokens and finish reasons for every request, whatever the batch composition,
// with several KV blocks per sequence, with requests waiting for a row, and with sequences
// preempted for lack of blocks and resumed. Also the device sampler against text/ngram_ban.
#include <random>

#include <gtest/gtest.h>

#include "engine/batch_engine.h"
#include "support/admission_checks.h"
#include "support/tiny_checkpoint.h"
#include "text/ngram_ban.h"

using namespace folio;

namespace {

class BatchEngineTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    ck_ = std::make_unique<folio::testing::TinyCheckpoint>("batch", 11, folio::testing::kUnreachedEos);
  }
  static void TearDownTestSuite() { ck_.reset(); }
  void SetUp() override {
    be_ = make_backend("cpu");
    model_ = DeepseekOcrModel::load(ck_->dir(), *be_);
  }

  // Prompt i: BOS, a few text ids, and for odd i an image block of 6 placeholders.
  std::vector<int32_t> prompt(int i) const {
    std::vector<int32_t> p{0};
    if (i % 2) p.insert(p.end(), 6, model_->config().image_token);
    for (int t = 0; t < 3 + i; ++t) p.push_back(100 + 37 * i + t);
    return p;
  }
  Tensor image(int i) const {
    std::mt19937 rng(i);
    std::normal_distribution<float> n(0.f, 1.f);
    std::vector<float> v(6 * model_->config().lm.hidden);
    for (float& x : v) x = n(rng);
    return be_->upload_f32(Tensor::from_f32(v, {6, model_->config().lm.hidden}));
  }
  GenerateOptions options(int i) const {
    GenerateOptions o;
    o.max_tokens = 10 + 3 * i;
    o.detect_loops = false;
    o.ngram = {true, 3, 12};  // small enough to bite on a random model
    return o;
  }
  GenerateResult reference(int i) {
    const Tensor img = image(i);
    return generate(*model_, prompt(i), i % 2 ? &img : nullptr, options(i));
  }
  std::vector<GenerateResult> batched(int requests, const BatchEngineOptions& eo, BatchEngineStats* stats = nullptr) {
    BatchEngine engine(*model_, eo);
    std::vector<GenerateResult> out(requests);
    for (int i = 0; i < requests; ++i) {
      BatchRequest r;
      r.prompt = prompt(i);
      if (i % 2) r.image = [this, i] { return image(i); };
      r.options = options(i);
      r.on_done = [&out, i](GenerateResult&& g) { out[i] = std::move(g); };
      engine.submit(std::move(r));
    }
    engine.run();
    if (stats) *stats = engine.stats();
    return out;
  }

  // Requests that carry view pixels: page i of `pages` (nullptr: text only) with a prompt of
  // 2 + i text ids, through the engine with `eo`; or, with `closure`, the same pages handed
  // over as image closures (encoded one at a time).
  std::vector<GenerateResult> with_pages(const std::vector<std::shared_ptr<const ViewPixels>>& pages,
                                         const BatchEngineOptions& eo, bool closure, BatchEngineStats* stats) {
    BatchEngine engine(*model_, eo);
    std::vector<GenerateResult> out(pages.size());
    for (size_t i = 0; i < pages.size(); ++i) {
      BatchRequest r;
      r.prompt = folio::testing::page_prompt(*model_, pages[i].get(), 2 + int(i), int(i));
      if (pages[i] && closure) r.image = [this, p = pages[i]] { return model_->encode(*p); };
      else r.pixels = pages[i];
      r.options = options(int(i));
      r.on_done = [&out, i](GenerateResult&& g) { out[i] = std::move(g); };
      engine.submit(std::move(r));
    }
    engine.run();
    if (stats) *stats = engine.stats();
    return out;
  }

  static std::unique_ptr<folio::testing::TinyCheckpoint> ck_;
  std::unique_ptr<Backend> be_;
  std::unique_ptr<DeepseekOcrModel> model_;
};
std::unique_ptr<folio::testing::TinyCheckpoint> BatchEngineTest::ck_;

}  // namespace

TEST_F(BatchEngineTest, BatchedDecodingMatchesOneSequenceAtATime) {
  BatchEngineOptions eo;
  eo.max_batch = 4;
  eo.block_size = 4;  // several blocks per sequence
  eo.kv_blocks = 200;
  eo.max_context = 128;
  BatchEngineStats st;
  const std::vector<GenerateResult> got = batched(6, eo, &st);  // 6 requests, 4 rows: two wait
  for (int i = 0; i < 6; ++i) {
    const GenerateResult want = reference(i);
    EXPECT_EQ(got[i].tokens, want.tokens) << "request " << i;
    EXPECT_EQ(got[i].reason, want.reason) << "request " << i;
  }
  EXPECT_EQ(st.prefills, 6);
  EXPECT_EQ(st.max_running, 4);
  EXPECT_EQ(st.preemptions, 0);
  EXPECT_GE(st.graph_captures, 1);
}

TEST_F(BatchEngineTest, PreemptedSequencesResumeWithTheSameTokens) {
  BatchEngineOptions eo;
  eo.max_batch = 8;
  eo.block_size = 4;
  eo.kv_blocks = 16;  // 64 slots for 5 sequences of up to ~40 tokens: someone must yield
  eo.max_context = 64;
  BatchEngineStats st;
  const std::vector<GenerateResult> got = batched(5, eo, &st);
  EXPECT_GT(st.preemptions, 0);
  for (int i = 0; i < 5; ++i) {
    const GenerateResult want = reference(i);
    EXPECT_EQ(got[i].tokens, want.tokens) << "request " << i;
    EXPECT_EQ(got[i].reason, want.reason) << "request " << i;
  }
}

TEST_F(BatchEngineTest, ARequestLargerThanTheWholeCacheFailsAlone) {
  BatchEngineOptions eo;
  eo.block_size = 4;
  eo.kv_blocks = 2;  // 8 slots: no prompt below fits
  eo.max_context = 64;
  const std::vector<GenerateResult> got = batched(2, eo);
  for (const GenerateResult& g : got) EXPECT_EQ(g.reason, FinishReason::error);
}

std::shared_ptr<const ViewPixels> page(uint32_t seed, int base = 256, int grid_w = 0, int grid_h = 0) {
  return std::make_shared<const ViewPixels>(folio::testing::random_page(seed, base, grid_w, grid_h));
}

TEST_F(BatchEngineTest, PagesAdmittedInGroupsDecodeLikePagesAdmittedAlone) {
  // Base pages, tiled pages and a text-only request, all of one base size: one group.
  const std::vector<std::shared_ptr<const ViewPixels>> pages{page(1), page(2, 256, 2, 1), nullptr, page(3),
                                                             page(4, 256, 1, 2)};
  BatchEngineOptions eo;
  eo.max_batch = 8;
  eo.block_size = 4;
  eo.kv_blocks = 400;
  eo.max_context = 256;
  BatchEngineStats grouped, alone;
  const std::vector<GenerateResult> got = with_pages(pages, eo, false, &grouped);
  eo.max_admit = 1;
  const std::vector<GenerateResult> want = with_pages(pages, eo, true, &alone);
  for (size_t i = 0; i < pages.size(); ++i) {
    EXPECT_EQ(got[i].tokens, want[i].tokens) << "request " << i;
    EXPECT_EQ(got[i].reason, want[i].reason) << "request " << i;
    EXPECT_FALSE(got[i].tokens.empty());
  }
  EXPECT_EQ(grouped.admit_groups, 1);
  EXPECT_EQ(grouped.max_admit_group, 5);
  EXPECT_EQ(alone.admit_groups, 5);
  EXPECT_EQ(alone.max_admit_group, 1);
}

TEST_F(BatchEngineTest, AGroupEndsAtAPageOfAnotherSizeAndAtTheLimits) {
  const std::vector<std::shared_ptr<const ViewPixels>> pages{page(1), page(2), page(3, 320), page(4), page(5), page(6)};
  BatchEngineOptions eo;
  eo.max_batch = 8;
  eo.block_size = 4;
  eo.kv_blocks = 400;
  eo.max_context = 256;
  BatchEngineStats st;
  with_pages(pages, eo, false, &st);
  EXPECT_EQ(st.admit_groups, 3);  // [256 256] [320] [256 256 256]: the queue order is kept
  EXPECT_EQ(st.max_admit_group, 3);
  eo.max_admit = 2;
  with_pages(pages, eo, false, &st);
  EXPECT_EQ(st.admit_groups, 4);  // [256 256] [320] [256 256] [256]
  eo.max_admit = 16;
  eo.admit_memory = 1;  // below any page's estimate: one page per group
  const std::vector<GenerateResult> got = with_pages(pages, eo, false, &st);
  EXPECT_EQ(st.admit_groups, 6);
  EXPECT_EQ(st.max_admit_group, 1);
  for (const GenerateResult& g : got) EXPECT_EQ(g.reason, FinishReason::length);
  eo.admit_memory = int64_t(2) << 30;
  eo.max_batch = 2;  // free rows bound the group too
  with_pages(pages, eo, false, &st);
  EXPECT_LE(st.max_admit_group, 2);
  EXPECT_EQ(st.max_running, 2);
}

TEST_F(BatchEngineTest, FreeBlocksBoundTheGroupAndPreemptedPagesResume) {
  // Room for about two of these pages at once: groups stay small, sequences are preempted and
  // resumed (re-encoded through the batched path), and the tokens are still those of pages
  // admitted alone with all the room they need.
  const std::vector<std::shared_ptr<const ViewPixels>> pages{page(1), page(2), page(3), page(4)};
  BatchEngineOptions eo;
  eo.max_batch = 8;
  eo.block_size = 4;
  eo.kv_blocks = 20;  // 80 slots; a page is 21 image rows + ~5 ids + up to ~20 generated
  eo.max_context = 128;
  BatchEngineStats tight, roomy;
  const std::vector<GenerateResult> got = with_pages(pages, eo, false, &tight);
  eo.kv_blocks = 400;
  eo.max_admit = 1;
  const std::vector<GenerateResult> want = with_pages(pages, eo, true, &roomy);
  EXPECT_LT(tight.max_admit_group, 4);
  EXPECT_GT(tight.preemptions, 0);
  for (size_t i = 0; i < pages.size(); ++i) EXPECT_EQ(got[i].tokens, want[i].tokens) << "request " << i;
}

TEST(GreedyNext, BansLikeTheHostRuleAndAppendsTheWinner) {
  auto be = make_backend("cpu");
  const int V = 50, cap = 16;
  // Row 0: history "1 2 3 1 2" with n=3: the prefix "1 2" was followed by 3, so 3 is banned.
  // Row 1: the same history with the ban off. Logits prefer 3, then 7.
  const std::vector<int32_t> gen{1, 2, 3, 1, 2};
  Tensor logits = Tensor::zeros({2, V}, DType::kF32), history = Tensor::zeros({2, cap}, DType::kI32);
  Tensor len = Tensor::zeros({2}, DType::kI32), ngram = Tensor::zeros({2}, DType::kI32);
  Tensor window = Tensor::zeros({2}, DType::kI32), next = Tensor::zeros({2}, DType::kI32), white;
  for (int r = 0; r < 2; ++r) {
    logits.data<float>()[r * V + 3] = 5.f;
    logits.data<float>()[r * V + 7] = 4.f;
    std::copy(gen.begin(), gen.end(), history.data<int32_t>() + r * cap + cap - gen.size());
    len.data<int32_t>()[r] = static_cast<int32_t>(gen.size());
    window.data<int32_t>()[r] = 10;
  }
  ngram.data<int32_t>()[0] = 3;
  ASSERT_EQ(banned_next(gen, 3, 10), std::vector<int32_t>{3});
  be->greedy_next(logits, history, len, ngram, window, white, next);
  EXPECT_EQ(next.data<int32_t>()[0], 7);
  EXPECT_EQ(next.data<int32_t>()[1], 3);
  EXPECT_EQ(history.data<int32_t>()[cap - 1], 7);
  EXPECT_EQ(history.data<int32_t>()[cap - 2], 2);
  EXPECT_EQ(len.data<int32_t>()[0], 6);
}
