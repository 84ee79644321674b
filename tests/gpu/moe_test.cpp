// router_topk and moe_experts against host references.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "gpu_test_util.h"

namespace folio::cuda {
const char* moe_gemm_path();
}

namespace folio::gpu_test {
namespace {

using MoeTest = GpuTest;

TEST_F(MoeTest, RouterTopkMatchesHostSoftmaxTopk) {
  const int T = 37, E = 64, k = 6;
  const float scale = 1.5f;
  std::vector<float> logits = random_bf16(size_t(T) * E, 111, -4.f, 4.f);
  std::vector<int32_t> ids;
  std::vector<float> w;
  be->router_topk(to_dev(*be, logits, {T, E}, DType::kF32), k, scale, ids, w);
  ASSERT_EQ(ids.size(), size_t(T) * k);
  for (int t = 0; t < T; ++t) {
    std::vector<double> p(E);
    double mx = -1e30, sum = 0;
    for (int e = 0; e < E; ++e) mx = std::max(mx, double(logits[t * E + e]));
    for (int e = 0; e < E; ++e) sum += p[e] = std::exp(logits[t * E + e] - mx);
    std::vector<int> order(E);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return p[a] > p[b]; });
    for (int j = 0; j < k; ++j) {
      EXPECT_EQ(ids[t * k + j], order[j]) << "token " << t << " slot " << j;
      EXPECT_NEAR(w[t * k + j], p[order[j]] / sum * scale, 1e-5) << "token " << t << " slot " << j;
    }
  }
}

TEST_F(MoeTest, RouterTiesGoToTheLowerIndex) {
  std::vector<int32_t> ids;
  std::vector<float> w;
  be->router_topk(to_dev(*be, std::vector<float>(2 * 40, 0.5f), {2, 40}, DType::kBF16), 3, 1.f, ids, w);
  EXPECT_EQ(ids, (std::vector<int32_t>{0, 1, 2, 0, 1, 2}));
  EXPECT_NEAR(w[0], 1.0 / 40, 1e-6);
}

struct MoeCase {
  int T, D, I, E, k;
  DType ydt = DType::kBF16;  // F32: the decoder's residual dtype, the expert outputs unrounded
};

class MoeExperts : public GpuTest, public ::testing::WithParamInterface<MoeCase> {};

TEST_P(MoeExperts, MatchesHostReference) {
  const MoeCase c = GetParam();
  std::vector<float> x = random_bf16(size_t(c.T) * c.D, 121);
  std::mt19937 rng(122);
  std::vector<int32_t> ids(size_t(c.T) * c.k);
  std::vector<float> rw(ids.size());
  for (int t = 0; t < c.T; ++t) {
    std::vector<int> all(c.E);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    for (int j = 0; j < c.k; ++j) {
      ids[t * c.k + j] = all[j];
      rw[t * c.k + j] = std::uniform_real_distribution<float>(0.05f, 0.5f)(rng);
    }
  }
  const float sd = 1.f / std::sqrt(float(c.D)), si = 1.f / std::sqrt(float(c.I));
  std::vector<std::vector<float>> g(c.E), u(c.E), d(c.E);
  std::vector<ExpertWeights> experts(c.E);
  for (int e = 0; e < c.E; ++e) {
    g[e] = random_bf16(size_t(c.I) * c.D, 1000 + e, -2 * sd, 2 * sd);
    u[e] = random_bf16(size_t(c.I) * c.D, 2000 + e, -2 * sd, 2 * sd);
    d[e] = random_bf16(size_t(c.D) * c.I, 3000 + e, -si, si);
    experts[e] = {to_dev(*be, g[e], {c.I, c.D}, DType::kBF16), to_dev(*be, u[e], {c.I, c.D}, DType::kBF16),
                  to_dev(*be, d[e], {c.D, c.I}, DType::kBF16)};
  }
  Tensor y = be->empty({c.T, c.D}, c.ydt);
  be->moe_experts(to_dev(*be, x, {c.T, c.D}, DType::kBF16), ids, rw, c.k, experts, y);

  std::vector<double> ref(size_t(c.T) * c.D, 0.0), act(c.I);
  for (int t = 0; t < c.T; ++t)
    for (int j = 0; j < c.k; ++j) {
      const int e = ids[t * c.k + j];
      for (int i = 0; i < c.I; ++i) {
        double gv = 0, uv = 0;
        for (int dd = 0; dd < c.D; ++dd) {
          gv += double(x[size_t(t) * c.D + dd]) * g[e][size_t(i) * c.D + dd];
          uv += double(x[size_t(t) * c.D + dd]) * u[e][size_t(i) * c.D + dd];
        }
        act[i] = gv / (1 + std::exp(-gv)) * uv;
      }
      for (int dd = 0; dd < c.D; ++dd) {
        double acc = 0;
        for (int i = 0; i < c.I; ++i) acc += act[i] * d[e][size_t(dd) * c.I + i];
        ref[size_t(t) * c.D + dd] += rw[t * c.k + j] * acc;  // expert outputs in full precision
      }
    }
  const std::vector<float> got = to_vec(*be, y);
  const double err = rel_err(got, ref), rerr = rms_err(got, ref);
  std::printf("moe_experts T=%d D=%d I=%d E=%d k=%d y=%s via %s: rel_err %.3g rms_err %.3g\n", c.T, c.D, c.I, c.E, c.k,
              dtype_name(c.ydt), cuda::moe_gemm_path(), err, rerr);
  // The GPU path rounds gate, up and their SwiGLU product to bf16 (as a bf16 PyTorch model does)
  // and, with a bf16 y, the sum; the double reference rounds nothing, so allow more than bf16's.
  EXPECT_LE(err, 4e-2);
  EXPECT_LE(rerr, 8e-3);
}

INSTANTIATE_TEST_SUITE_P(Shapes, MoeExperts,
                         ::testing::Values(MoeCase{5, 64, 32, 8, 2}, MoeCase{37, 1280, 896, 16, 6},
                                           MoeCase{300, 256, 128, 64, 6}, MoeCase{1, 1280, 896, 8, 6},
                                           MoeCase{37, 1280, 896, 16, 6, DType::kF32}, MoeCase{5, 64, 32, 8, 2, DType::kF32}),
                         [](const ::testing::TestParamInfo<MoeCase>& i) {
                           const MoeCase& c = i.param;
                           return "T" + std::to_string(c.T) + "_D" + std::to_string(c.D) + "_I" + std::to_string(c.I) +
                                  "_E" + std::to_string(c.E) + "_k" + std::to_string(c.k) + "_" + dtype_name(c.ydt);
                         });

}  // namespace
}  // namespace folio::gpu_test
