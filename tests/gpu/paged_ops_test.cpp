// The batched-decoding ops (paged attention, KV slot writes, device routing and experts,
// the device sampler, position advance) on the GPU against the CPU backend's plain loops,
// and the batching engine on the GPU: graphs replay exactly what op-by-op steps compute.
#include <numeric>

#include "engine/batch_engine.h"
#include "gpu_test_util.h"
#include "support/tiny_checkpoint.h"

namespace folio::gpu_test {
namespace {

Tensor ints_host(const std::vector<int32_t>& v, const Shape& s) {
  Tensor t = Tensor::empty(s, DType::kI32);
  std::copy(v.begin(), v.end(), t.data<int32_t>());
  return t;
}
std::vector<int32_t> ints_of(Backend& be, const Tensor& t) {
  Tensor h = be.to_host(t);
  return std::vector<int32_t>(h.data<int32_t>(), h.data<int32_t>() + h.numel());
}

using PagedOps = GpuTest;

struct PagedCase {
  int heads, head_dim, block_size;
};
class PagedAttention : public GpuTest, public ::testing::WithParamInterface<PagedCase> {};

TEST_P(PagedAttention, MatchesTheCpuLoops) {
  const PagedCase c = GetParam();
  auto cpu = make_backend("cpu");
  const int H = c.heads, D = c.head_dim, W = H * D, bs = c.block_size, blocks = 64, max_blocks = 300 / bs + 1;
  const std::vector<int32_t> lens{1, 0, 37, 300, bs, 129};  // row 1 inactive
  const int B = static_cast<int>(lens.size());
  std::vector<int32_t> table(size_t(B) * max_blocks, 0);
  std::vector<int32_t> perm(blocks);
  std::iota(perm.begin(), perm.end(), 0);
  std::shuffle(perm.begin(), perm.end(), std::mt19937(3));
  int next = 0;
  for (int b = 0; b < B; ++b)
    for (int j = 0; j * bs < lens[b]; ++j) table[b * max_blocks + j] = perm[next++ % blocks];
  const std::vector<float> q = random_bf16(size_t(B) * W, 1), k = random_bf16(size_t(blocks) * bs * W, 2, -2.f, 2.f),
                           v = random_bf16(size_t(blocks) * bs * W, 3);
  AttentionSpec spec;
  spec.heads = H;
  spec.head_dim = D;
  spec.scale = 1.f / std::sqrt(float(D));
  Tensor out = be->empty({B, W}, DType::kBF16);
  be->paged_attention(to_dev(*be, q, {B, W}, DType::kBF16), to_dev(*be, k, {blocks * bs, W}, DType::kBF16),
                      to_dev(*be, v, {blocks * bs, W}, DType::kBF16), be->to_device(ints_host(table, {B, max_blocks})),
                      be->to_device(ints_host(lens, {B})), bs, spec, out);
  Tensor ref = Tensor::empty({B, W}, DType::kF32);
  cpu->paged_attention(Tensor::from_f32(q, {B, W}), Tensor::from_f32(k, {blocks * bs, W}),
                       Tensor::from_f32(v, {blocks * bs, W}), ints_host(table, {B, max_blocks}), ints_host(lens, {B}),
                       bs, spec, ref);
  const std::vector<float> got = to_vec(*be, out), want = ref.to_vector_f32();
  EXPECT_LE(rel_err(got, std::vector<double>(want.begin(), want.end())), 3e-2);
  for (int c2 = 0; c2 < W; ++c2) EXPECT_EQ(got[W + c2], 0.f) << "inactive row";
}

INSTANTIATE_TEST_SUITE_P(Shapes, PagedAttention,
                         ::testing::Values(PagedCase{10, 128, 32}, PagedCase{2, 32, 4}, PagedCase{4, 64, 16}),
                         [](const ::testing::TestParamInfo<PagedCase>& i) {
                           return "H" + std::to_string(i.param.heads) + "_D" + std::to_string(i.param.head_dim) +
                                  "_bs" + std::to_string(i.param.block_size);
                         });

TEST_F(PagedOps, KvStoreAndAdvanceFollowTheBlockTable) {
  const int W = 16, bs = 4, S = 8 * bs;
  Tensor kp = be->to_device(Tensor::zeros({S, W}, DType::kBF16)), vp = be->to_device(Tensor::zeros({S, W}, DType::kBF16));
  const std::vector<float> k = random_bf16(3 * W, 5), v = random_bf16(3 * W, 6);
  be->kv_store(to_dev(*be, k, {3, W}, DType::kBF16), to_dev(*be, v, {3, W}, DType::kBF16),
               be->to_device(ints_host({9, -1, 30}, {3})), kp, vp);
  const std::vector<float> kh = to_vec(*be, kp), vh = to_vec(*be, vp);
  for (int c = 0; c < W; ++c) {
    EXPECT_EQ(kh[9 * W + c], k[c]);
    EXPECT_EQ(vh[30 * W + c], v[2 * W + c]);
  }
  EXPECT_EQ(std::count(kh.begin(), kh.end(), 0.f), static_cast<long>((S - 2) * W));  // row 1 skipped
  // Row 0 at position 3 (block 0 = id 5) moves to position 4: block 1 = id 2, slot 8.
  Tensor pos = be->to_device(ints_host({3, -1}, {2})), lens = be->to_device(ints_host({4, 0}, {2}));
  Tensor slots = be->to_device(ints_host({23, -1}, {2}));
  be->advance_positions(pos, lens, slots, be->to_device(ints_host({5, 2, 0, 0}, {2, 2})), bs);
  EXPECT_EQ(ints_of(*be, pos), (std::vector<int32_t>{4, -1}));
  EXPECT_EQ(ints_of(*be, lens), (std::vector<int32_t>{5, 0}));
  EXPECT_EQ(ints_of(*be, slots), (std::vector<int32_t>{8, -1}));
}

TEST_F(PagedOps, DeviceRoutingAndExpertsMatchTheHostRoutedPath) {
  for (const int T : {1, 7, 64, 300}) {
    const int D = 256, I = 128, E = 16, k = 6;
    const std::vector<float> x = random_bf16(size_t(T) * D, 10 + T), logits = random_bf16(size_t(T) * E, 20 + T, -3.f, 3.f);
    std::vector<ExpertWeights> experts(E);
    for (int e = 0; e < E; ++e)
      experts[e] = {to_dev(*be, random_bf16(size_t(I) * D, 100 + e, -.1f, .1f), {I, D}, DType::kBF16),
                    to_dev(*be, random_bf16(size_t(I) * D, 200 + e, -.1f, .1f), {I, D}, DType::kBF16),
                    to_dev(*be, random_bf16(size_t(D) * I, 300 + e, -.1f, .1f), {D, I}, DType::kBF16)};
    const Tensor xd = to_dev(*be, x, {T, D}, DType::kBF16), ld = to_dev(*be, logits, {T, E}, DType::kF32);
    Tensor ids = be->empty({T, k}, DType::kI32), w = be->empty({T, k}, DType::kF32);
    be->router_topk_dev(ld, k, 1.f, true, ids, w);
    std::vector<int32_t> hid;
    std::vector<float> hw;
    be->router_topk(ld, k, 1.f, hid, hw);
    for (int t = 0; t < T; ++t) {
      float s = 1e-20f;
      for (int j = 0; j < k; ++j) s += hw[t * k + j];
      for (int j = 0; j < k; ++j) hw[t * k + j] /= s;
    }
    EXPECT_EQ(ints_of(*be, ids), hid) << "T=" << T;
    const std::vector<float> wd = to_vec(*be, w);
    for (size_t i = 0; i < hw.size(); ++i) EXPECT_NEAR(wd[i], hw[i], 1e-5);
    Tensor y_dev = be->empty({T, D}, DType::kBF16), y_host = be->empty({T, D}, DType::kBF16);
    be->moe_experts_dev(xd, ids, w, k, experts, y_dev);
    be->moe_experts(xd, hid, hw, k, experts, y_host);
    // Two bf16 paths that round at different places (the host-routed one rounds each expert's
    // output before the weighted sum): bounds twice those of one path against fp64 (moe_test).
    const std::vector<float> a = to_vec(*be, y_dev), b = to_vec(*be, y_host);
    const std::vector<double> bd(b.begin(), b.end());
    EXPECT_LE(rel_err(a, bd), 8e-2) << "T=" << T;
    EXPECT_LE(rms_err(a, bd), 1.6e-2) << "T=" << T;
  }
}

TEST_F(PagedOps, GreedyNextMatchesTheCpuSampler) {
  auto cpu = make_backend("cpu");
  const int B = 3, V = 5000, cap = 256;
  std::vector<float> logits = random_bf16(size_t(B) * V, 7, -5.f, 5.f);
  std::vector<int32_t> hist(size_t(B) * cap, 0), len{0, 40, 100}, ngram{3, 3, 0}, window{90, 90, 0};
  // Row 1 repeats a 2-id prefix whose follower is the row's best id: the ban must move it.
  int best = int(std::max_element(logits.begin() + V, logits.begin() + 2 * V) - (logits.begin() + V));
  std::vector<int32_t> gen(40, 11);
  gen[30] = 4;
  gen[31] = 9;
  gen[32] = best;
  gen[38] = 4;
  gen[39] = 9;
  std::copy(gen.begin(), gen.end(), hist.begin() + cap + cap - 40);
  Tensor h_cpu = ints_host(hist, {B, cap}), l_cpu = ints_host(len, {B}), n_cpu = Tensor::empty({B}, DType::kI32);
  Tensor h_gpu = be->to_device(h_cpu.clone()), l_gpu = be->to_device(l_cpu.clone()), n_gpu = be->empty({B}, DType::kI32);
  Tensor white_cpu = ints_host({128821}, {1});
  cpu->greedy_next(Tensor::from_f32(logits, {B, V}), h_cpu, l_cpu, ints_host(ngram, {B}), ints_host(window, {B}),
                   white_cpu, n_cpu);
  be->greedy_next(to_dev(*be, logits, {B, V}, DType::kF32), h_gpu, l_gpu, be->to_device(ints_host(ngram, {B})),
                  be->to_device(ints_host(window, {B})), be->to_device(white_cpu), n_gpu);
  const std::vector<int32_t> want(n_cpu.data<int32_t>(), n_cpu.data<int32_t>() + B);
  EXPECT_EQ(ints_of(*be, n_gpu), want);
  EXPECT_NE(want[1], best);
  EXPECT_EQ(ints_of(*be, h_gpu), std::vector<int32_t>(h_cpu.data<int32_t>(), h_cpu.data<int32_t>() + B * cap));
  EXPECT_EQ(ints_of(*be, l_gpu), (std::vector<int32_t>{1, 41, 101}));
}

TEST_F(PagedOps, EngineGraphsReplayWhatOpByOpStepsCompute) {
  const folio::testing::TinyCheckpoint ck("gpu_batch", 3, folio::testing::kUnreachedEos);
  auto model = DeepseekOcrModel::load(ck.dir(), *be);
  auto run = [&](bool graphs, int64_t blocks, BatchEngineStats& st) {
    BatchEngineOptions eo;
    eo.max_batch = 8;
    eo.block_size = 4;
    eo.kv_blocks = blocks;
    eo.max_context = 96;
    eo.graphs = graphs;
    BatchEngine engine(*model, eo);
    std::vector<std::vector<int32_t>> out(10);
    for (int i = 0; i < 10; ++i) {
      BatchRequest r;
      r.prompt = {0, 100 + i, 200 + 3 * i, 300};
      r.options.max_tokens = 20 + 2 * i;
      r.options.detect_loops = false;
      r.on_done = [&out, i](GenerateResult&& g) { out[i] = g.tokens; };
      engine.submit(std::move(r));
    }
    engine.run();
    st = engine.stats();
    return out;
  };
  BatchEngineStats a, b, c;
  const auto eager = run(false, 400, a), graphs = run(true, 400, b), tight = run(true, 24, c);
  EXPECT_EQ(graphs, eager);
  EXPECT_GT(b.graph_captures, 0);
  // Preempted sequences resume through the prefill kernels, whose bf16 rounding differs from
  // the decode kernels', so their tokens may drift on a random model (the CPU test checks
  // they are exact in fp32); here every request must still run to its full length.
  EXPECT_GT(c.preemptions, 0);
  for (int i = 0; i < 10; ++i) {
    EXPECT_EQ(eager[i].size(), size_t(20 + 2 * i));
    EXPECT_EQ(tight[i].size(), eager[i].size());
  }
}

}  // namespace
}  // namespace folio::gpu_test
