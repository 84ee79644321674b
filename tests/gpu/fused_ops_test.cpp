// The fused decode-step ops of the CUDA backend against host double references and against
// their own definitions (Backend::op, the composition of plain ops on the same device). Row
// counts cover the fused kernels (1..8) and the fallback past them.
#include <algorithm>
#include <cmath>
#include <numeric>

#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

using FusedOps = GpuTest;

// Host RMSNorm of row r of x [M, K] with weight g, rounded to bf16 (the products' input).
std::vector<double> host_norm_bf16(const std::vector<float>& x, const std::vector<float>& g, int r, int K, float eps) {
  double ss = 0;
  for (int i = 0; i < K; ++i) ss += double(x[size_t(r) * K + i]) * x[size_t(r) * K + i];
  const double inv = 1.0 / std::sqrt(ss / K + eps);
  std::vector<double> out(K);
  for (int i = 0; i < K; ++i) out[i] = round_to_bf16(float(x[size_t(r) * K + i] * inv * g[i]));
  return out;
}

double max_abs_diff(const std::vector<float>& a, const std::vector<float>& b) {
  double m = 0;
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) m = std::max(m, double(std::fabs(a[i] - b[i])));
  return a.size() == b.size() ? m : INFINITY;
}

class NormLinearRows : public GpuTest, public ::testing::WithParamInterface<int> {};

TEST_P(NormLinearRows, MatchesHostAndComposition) {
  const int M = GetParam(), K = 256;
  const std::vector<int> widths = {96, 64, 40};
  const float eps = 1e-6f;
  const std::vector<float> x = random_bf16(size_t(M) * K, 11, -3.f, 3.f), g = random_bf16(K, 12, 0.5f, 1.5f);
  Tensor xd = to_dev(*be, x, {M, K}, DType::kF32), gd = to_dev(*be, g, {K}, DType::kBF16);
  std::vector<std::vector<float>> w;
  std::vector<Tensor> wd, fused, composed;
  for (size_t s = 0; s < widths.size(); ++s) {
    w.push_back(random_bf16(size_t(widths[s]) * K, 20 + uint32_t(s), -0.1f, 0.1f));
    wd.push_back(to_dev(*be, w.back(), {widths[s], K}, DType::kBF16));
    fused.push_back(be->empty({M, widths[s]}, s == 2 ? DType::kF32 : DType::kBF16));
    composed.push_back(be->empty({M, widths[s]}, s == 2 ? DType::kF32 : DType::kBF16));
  }
  // Outputs of one call share a dtype: weights 0-1 to bf16, weight 2 separately to fp32.
  be->rms_norm_linear(xd, gd, eps, {&wd[0], &wd[1]}, {&fused[0], &fused[1]});
  be->rms_norm_linear(xd, gd, eps, {&wd[2]}, {&fused[2]});
  be->Backend::rms_norm_linear(xd, gd, eps, {&wd[0], &wd[1]}, {&composed[0], &composed[1]});
  be->Backend::rms_norm_linear(xd, gd, eps, {&wd[2]}, {&composed[2]});
  for (size_t s = 0; s < widths.size(); ++s) {
    std::vector<double> ref(size_t(M) * widths[s]);
    for (int r = 0; r < M; ++r) {
      const std::vector<double> xn = host_norm_bf16(x, g, r, K, eps);
      for (int n = 0; n < widths[s]; ++n) {
        double acc = 0;
        for (int i = 0; i < K; ++i) acc += xn[i] * w[s][size_t(n) * K + i];
        ref[size_t(r) * widths[s] + n] = acc;
      }
    }
    const std::vector<float> got = to_vec(*be, fused[s]), comp = to_vec(*be, composed[s]);
    const double bound = s == 2 ? 1e-3 : 2e-2;  // fp32 output vs one bf16 rounding of the output
    EXPECT_LE(rel_err(got, ref), bound) << "weight " << s << ", M " << M;
    EXPECT_LE(rel_err(comp, ref), bound) << "composition, weight " << s << ", M " << M;
  }
}

INSTANTIATE_TEST_SUITE_P(Rows, NormLinearRows, ::testing::Values(1, 3, 8, 9));

class LinearAddRows : public GpuTest, public ::testing::WithParamInterface<int> {};

TEST_P(LinearAddRows, AddsTheProductToTheResidual) {
  const int M = GetParam(), K = 320, N = 200;
  const std::vector<float> x = random_bf16(size_t(M) * K, 31), w = random_bf16(size_t(N) * K, 32, -0.2f, 0.2f),
                           h0 = random_bf16(size_t(M) * N, 33, -10.f, 10.f);
  Tensor h = to_dev(*be, h0, {M, N}, DType::kF32);
  be->linear_add(to_dev(*be, x, {M, K}, DType::kBF16), to_dev(*be, w, {N, K}, DType::kBF16), h);
  const std::vector<float> got = to_vec(*be, h);
  std::vector<float> delta(got.size());
  std::vector<double> ref(got.size());
  for (int r = 0; r < M; ++r)
    for (int n = 0; n < N; ++n) {
      double acc = 0;
      for (int i = 0; i < K; ++i) acc += double(x[size_t(r) * K + i]) * w[size_t(n) * K + i];
      ref[size_t(r) * N + n] = acc;
      delta[size_t(r) * N + n] = got[size_t(r) * N + n] - h0[size_t(r) * N + n];
    }
  // fp32 accumulation and an fp32 residual: the added product is exact to fp32 rounding of h.
  EXPECT_LE(rel_err(delta, ref), 1e-4) << "M " << M;
}

INSTANTIATE_TEST_SUITE_P(Rows, LinearAddRows, ::testing::Values(1, 5, 8, 40));

// The encoders' residual add with a bf16 bias (linear_then kAddTo): y += x·wᵀ + bias, over row
// counts of the cuBLASLt path and of the few-row kernels.
class LinearThenAdd : public GpuTest, public ::testing::WithParamInterface<int> {};

TEST_P(LinearThenAdd, AddsProductAndBiasToTheResidual) {
  const int M = GetParam(), K = 256, N = 192;
  const std::vector<float> x = random_bf16(size_t(M) * K, 41), w = random_bf16(size_t(N) * K, 42, -0.2f, 0.2f),
                           bias = random_bf16(N, 43, -1.f, 1.f), h0 = random_bf16(size_t(M) * N, 44, -10.f, 10.f);
  Tensor h = to_dev(*be, h0, {M, N}, DType::kF32);
  const Tensor b = to_dev(*be, bias, {N}, DType::kBF16);
  be->linear_then(to_dev(*be, x, {M, K}, DType::kBF16), to_dev(*be, w, {N, K}, DType::kBF16), &b,
                  Backend::LinearThen::kAddTo, h);
  const std::vector<float> got = to_vec(*be, h);
  std::vector<float> delta(got.size());
  std::vector<double> ref(got.size());
  for (int r = 0; r < M; ++r)
    for (int n = 0; n < N; ++n) {
      double acc = bias[n];
      for (int i = 0; i < K; ++i) acc += double(x[size_t(r) * K + i]) * w[size_t(n) * K + i];
      ref[size_t(r) * N + n] = acc;
      delta[size_t(r) * N + n] = got[size_t(r) * N + n] - h0[size_t(r) * N + n];
    }
  // The composition rounds the product to bf16 before the add; the fused path need not.
  EXPECT_LE(rel_err(delta, ref), 1e-2) << "M " << M;
}

INSTANTIATE_TEST_SUITE_P(Rows, LinearThenAdd, ::testing::Values(3, 64, 4096));

TEST_F(FusedOps, RopeKvStoreEqualsRopeThenStore) {
  const int T = 5, heads = 3, D = 16, W = heads * D, slots_n = 12;
  const std::vector<float> q = random_bf16(size_t(T) * W, 41), k = random_bf16(size_t(T) * W, 42),
                           v = random_bf16(size_t(T) * W, 43);
  Tensor pos = be->empty({T}, DType::kI32), slots = be->empty({T}, DType::kI32);
  Tensor hp = Tensor::empty({T}, DType::kI32), hs = Tensor::empty({T}, DType::kI32);
  const int32_t p[T] = {0, 7, 300, 2, 9}, s[T] = {3, -1, 11, 0, 6};  // row 1 inactive
  std::copy(p, p + T, hp.data<int32_t>());
  std::copy(s, s + T, hs.data<int32_t>());
  be->write(pos, hp);
  be->write(slots, hs);
  auto run = [&](bool fused, std::vector<float>& q_out, std::vector<float>& kp_out, std::vector<float>& vp_out) {
    Tensor qd = to_dev(*be, q, {T, W}, DType::kBF16), kd = to_dev(*be, k, {T, W}, DType::kBF16);
    Tensor kp = to_dev(*be, std::vector<float>(size_t(slots_n) * W, 0.f), {slots_n, W}, DType::kBF16);
    Tensor vp = to_dev(*be, std::vector<float>(size_t(slots_n) * W, 0.f), {slots_n, W}, DType::kBF16);
    Tensor vd = to_dev(*be, v, {T, W}, DType::kBF16);
    if (fused) be->rope_kv_store(qd, kd, vd, pos, slots, heads, D, 10000.f, kp, vp);
    else be->Backend::rope_kv_store(qd, kd, vd, pos, slots, heads, D, 10000.f, kp, vp);
    q_out = to_vec(*be, qd);
    kp_out = to_vec(*be, kp);
    vp_out = to_vec(*be, vp);
  };
  std::vector<float> qf, kf, vf, qc, kc, vc;
  run(true, qf, kf, vf);
  run(false, qc, kc, vc);
  EXPECT_EQ(max_abs_diff(qf, qc), 0.0);
  EXPECT_EQ(max_abs_diff(kf, kc), 0.0);
  EXPECT_EQ(max_abs_diff(vf, vc), 0.0);
  // The inactive row stored nothing: slot 1 (nobody's) stays zero, slot 3 holds row 0's v.
  for (int c = 0; c < W; ++c) {
    EXPECT_EQ(vf[size_t(1) * W + c], 0.f);
    EXPECT_EQ(vf[size_t(3) * W + c], round_to_bf16(v[c]));
  }
}

TEST_F(FusedOps, NormRouteKeepsTheRouterInFp32) {
  const int T = 24, D = 1280, E = 64, k = 6;
  const float eps = 1e-6f, scale = 1.f;
  const std::vector<float> h = random_bf16(size_t(T) * D, 51, -4.f, 4.f), g = random_bf16(D, 52, 0.5f, 1.5f),
                           router = random_bf16(size_t(E) * D, 53, -0.05f, 0.05f);
  Tensor hd = to_dev(*be, h, {T, D}, DType::kF32), gd = to_dev(*be, g, {D}, DType::kBF16),
         rd = to_dev(*be, router, {E, D}, DType::kBF16);
  Tensor xn = be->empty({T, D}, DType::kBF16), xn_plain = be->empty({T, D}, DType::kBF16);
  Tensor ids = be->empty({T, k}, DType::kI32), w = be->empty({T, k}, DType::kF32);
  be->rms_norm_route(hd, gd, eps, rd, k, scale, /*renormalise=*/true, xn, ids, w);
  be->rms_norm(hd, gd, eps, xn_plain);
  // The experts' input is exactly rms_norm's output (same threads, same sums).
  EXPECT_EQ(max_abs_diff(to_vec(*be, xn), to_vec(*be, xn_plain)), 0.0);
  const Tensor hid = be->to_host(ids);
  const std::vector<float> got_w = to_vec(*be, w);
  int checked = 0;
  for (int t = 0; t < T; ++t) {
    double ss = 0;
    for (int i = 0; i < D; ++i) ss += double(h[size_t(t) * D + i]) * h[size_t(t) * D + i];
    const double inv = 1.0 / std::sqrt(ss / D + eps);
    std::vector<double> logit(E), p(E);
    for (int e = 0; e < E; ++e) {
      double acc = 0;
      for (int i = 0; i < D; ++i) acc += h[size_t(t) * D + i] * inv * g[i] * router[size_t(e) * D + i];
      logit[e] = acc;
    }
    const double mx = *std::max_element(logit.begin(), logit.end());
    double sum = 0;
    for (int e = 0; e < E; ++e) sum += p[e] = std::exp(logit[e] - mx);
    std::vector<int> order(E);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return logit[a] > logit[b]; });
    double min_gap = INFINITY;
    for (int j = 0; j < k; ++j) min_gap = std::min(min_gap, logit[order[j]] - logit[order[j + 1]]);
    if (min_gap < 1e-4) continue;  // a near-tie: fp32 rounding may legitimately decide it
    ++checked;
    double top = 0;
    for (int j = 0; j < k; ++j) top += p[order[j]] / sum;
    for (int j = 0; j < k; ++j) {
      EXPECT_EQ(hid.data<int32_t>()[t * k + j], order[j]) << "row " << t << " slot " << j;
      EXPECT_NEAR(got_w[t * k + j], p[order[j]] / sum / top, 1e-5) << "row " << t << " slot " << j;
    }
  }
  EXPECT_GE(checked, T / 2);
}

struct MoeAddCase {
  int T;
  bool shared;
};

class MoeAddRows : public GpuTest, public ::testing::WithParamInterface<MoeAddCase> {};

TEST_P(MoeAddRows, MatchesHostAndComposition) {
  const int T = GetParam().T, D = 256, I = 96, Is = 192, E = 16, k = 4;
  const std::vector<float> x = random_bf16(size_t(T) * D, 61), h0 = random_bf16(size_t(T) * D, 62, -5.f, 5.f);
  std::mt19937 rng(63);
  std::vector<int32_t> ids(size_t(T) * k);
  std::vector<float> rw(ids.size());
  for (int t = 0; t < T; ++t) {
    std::vector<int> all(E);
    std::iota(all.begin(), all.end(), 0);
    std::shuffle(all.begin(), all.end(), rng);
    for (int j = 0; j < k; ++j) {
      ids[t * k + j] = all[j];
      rw[t * k + j] = std::uniform_real_distribution<float>(0.05f, 0.5f)(rng);
    }
  }
  const float sd = 2.f / std::sqrt(float(D));
  auto mlp = [&](int width, uint32_t seed) {
    std::vector<std::vector<float>> m = {random_bf16(size_t(width) * D, seed, -sd, sd),
                                         random_bf16(size_t(width) * D, seed + 1, -sd, sd),
                                         random_bf16(size_t(D) * width, seed + 2, -1.f / std::sqrt(float(width)),
                                                     1.f / std::sqrt(float(width)))};
    return m;
  };
  std::vector<std::vector<std::vector<float>>> host(E);
  std::vector<ExpertWeights> experts(E);
  for (int e = 0; e < E; ++e) {
    host[e] = mlp(I, 100 + 3 * e);
    experts[e] = {to_dev(*be, host[e][0], {I, D}, DType::kBF16), to_dev(*be, host[e][1], {I, D}, DType::kBF16),
                  to_dev(*be, host[e][2], {D, I}, DType::kBF16)};
  }
  const std::vector<std::vector<float>> sh = mlp(Is, 900);
  ExpertWeights shared;
  if (GetParam().shared)
    shared = {to_dev(*be, sh[0], {Is, D}, DType::kBF16), to_dev(*be, sh[1], {Is, D}, DType::kBF16),
              to_dev(*be, sh[2], {D, Is}, DType::kBF16)};
  // Host reference: h0 + sum_j w_j expert_j(x) + shared(x), activations rounded to bf16.
  auto swiglu_host = [&](const std::vector<std::vector<float>>& m, int width, int t, std::vector<double>& out,
                         double scale) {
    std::vector<double> act(width);
    for (int i = 0; i < width; ++i) {
      double gv = 0, uv = 0;
      for (int d = 0; d < D; ++d) {
        gv += double(x[size_t(t) * D + d]) * m[0][size_t(i) * D + d];
        uv += double(x[size_t(t) * D + d]) * m[1][size_t(i) * D + d];
      }
      act[i] = round_to_bf16(float(gv / (1 + std::exp(-gv)) * uv));
    }
    for (int d = 0; d < D; ++d) {
      double acc = 0;
      for (int i = 0; i < width; ++i) acc += act[i] * m[2][size_t(d) * width + i];
      out[size_t(t) * D + d] += scale * acc;
    }
  };
  std::vector<double> ref(size_t(T) * D, 0.0);
  for (int t = 0; t < T; ++t) {
    for (int j = 0; j < k; ++j) swiglu_host(host[ids[t * k + j]], I, t, ref, rw[t * k + j]);
    if (GetParam().shared) swiglu_host(sh, Is, t, ref, 1.0);
  }
  Tensor idd = be->empty({T, k}, DType::kI32);
  Tensor hid = Tensor::empty({T, k}, DType::kI32);
  std::copy(ids.begin(), ids.end(), hid.data<int32_t>());
  be->write(idd, hid);
  Tensor wd = to_dev(*be, rw, {T, k}, DType::kF32), xd = to_dev(*be, x, {T, D}, DType::kBF16);
  auto delta_of = [&](bool fused) {
    Tensor h = to_dev(*be, h0, {T, D}, DType::kF32);
    if (fused) be->moe_add(xd, idd, wd, k, experts, shared, h);
    else be->Backend::moe_add(xd, idd, wd, k, experts, shared, h);
    std::vector<float> got = to_vec(*be, h);
    for (size_t i = 0; i < got.size(); ++i) got[i] -= h0[i];
    return got;
  };
  const std::vector<float> fused = delta_of(true), composed = delta_of(false);
  // The composition rounds the routed sum and the shared output to bf16 before adding them;
  // past 8 rows the fused op is that composition.
  EXPECT_LE(rel_err(fused, ref), T <= 8 ? 1e-2 : 4e-2) << "T " << T;
  EXPECT_LE(rel_err(composed, ref), 4e-2) << "T " << T;
}

INSTANTIATE_TEST_SUITE_P(Rows, MoeAddRows,
                         ::testing::Values(MoeAddCase{1, true}, MoeAddCase{4, false}, MoeAddCase{8, true},
                                           MoeAddCase{9, true}),
                         [](const ::testing::TestParamInfo<MoeAddCase>& i) {
                           return "T" + std::to_string(i.param.T) + (i.param.shared ? "_shared" : "_routed_only");
                         });

}  // namespace
}  // namespace folio::gpu_test
