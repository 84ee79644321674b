// Every CPU op against a straightforward double-precision reference written here.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "core/bf16.h"
#include "core/error.h"
#include "weights/quantize.h"

#include <cstring>

#include "support/random_data.h"

using namespace folio;

namespace {

using folio::testing::randn;

Tensor bf16_tensor(const std::vector<float>& v, const Shape& s) {
  Tensor t = Tensor::empty(s, DType::kBF16);
  for (size_t i = 0; i < v.size(); ++i) t.data<uint16_t>()[i] = f32_to_bf16(v[i]);
  return t;
}

double rel_err(const float* a, const std::vector<double>& ref) {
  double md = 0, ss = 0;
  for (size_t i = 0; i < ref.size(); ++i) {
    md = std::max(md, std::fabs(a[i] - ref[i]));
    ss += ref[i] * ref[i];
  }
  return md / std::sqrt(ss / ref.size());
}

class CpuOps : public ::testing::Test {
 protected:
  std::unique_ptr<Backend> be = make_backend("cpu");
};

}  // namespace

TEST_F(CpuOps, LinearWithBf16WeightsInBothRegimes) {
  const int64_t K = 200, N = 70;  // K not a multiple of 16 exercises the masked tail
  const auto wv = randn(N * K, 1);
  Tensor w = bf16_tensor(wv, {N, K});
  const auto bias = randn(N, 2);
  Tensor b = Tensor::from_f32(bias, {N});
  for (int64_t M : {1, 3, 8, 9, 64}) {
    const auto xv = randn(M * K, 3 + M);
    Tensor x = Tensor::from_f32(xv, {M, K}), y = be->empty({M, N}, DType::kF32);
    be->linear(x, w, &b, y);
    std::vector<double> ref(M * N);
    for (int64_t m = 0; m < M; ++m)
      for (int64_t n = 0; n < N; ++n) {
        double acc = bias[n];
        for (int64_t k = 0; k < K; ++k) acc += double(xv[m * K + k]) * bf16_to_f32(f32_to_bf16(wv[n * K + k]));
        ref[m * N + n] = acc;
      }
    EXPECT_LT(rel_err(y.data<float>(), ref), 1e-5) << "M=" << M;
  }
}

TEST_F(CpuOps, AttentionWithRelativePositionsAndCausalMask) {
  const int H = 2, D = 16, gh = 3, gw = 4, N = gh * gw;
  for (bool rel : {false, true}) {
    for (bool causal : {false, true}) {
      if (rel && causal) continue;
      const auto q = randn(N * H * D, 10), k = randn(N * H * D, 11), v = randn(N * H * D, 12);
      const auto th = randn((2 * gh - 1) * D, 13), tw = randn((2 * gw - 1) * D, 14);
      AttentionSpec s;
      s.heads = H;
      s.head_dim = D;
      s.scale = 0.25f;
      s.causal = causal;
      if (rel) {
        s.rel_pos_h = Tensor::from_f32(th, {2 * gh - 1, D});
        s.rel_pos_w = Tensor::from_f32(tw, {2 * gw - 1, D});
        s.grid_h = gh;
        s.grid_w = gw;
      }
      Tensor out = be->empty({1, N, H * D}, DType::kF32);
      be->attention(Tensor::from_f32(q, {1, N, H * D}), Tensor::from_f32(k, {1, N, H * D}),
                    Tensor::from_f32(v, {1, N, H * D}), out, s);
      std::vector<double> ref(N * H * D, 0.0);
      for (int h = 0; h < H; ++h)
        for (int i = 0; i < N; ++i) {
          std::vector<double> logit(N, -INFINITY);
          for (int j = 0; j < N; ++j) {
            if (causal && j > i) continue;
            double dot = 0;
            for (int c = 0; c < D; ++c) dot += double(q[(i * H + h) * D + c]) * k[(j * H + h) * D + c];
            logit[j] = s.scale * dot;
            if (rel) {
              const int yi = i / gw, xi = i % gw, yj = j / gw, xj = j % gw;
              for (int c = 0; c < D; ++c)
                logit[j] += double(q[(i * H + h) * D + c]) *
                            (th[(yi - yj + gh - 1) * D + c] + tw[(xi - xj + gw - 1) * D + c]);
            }
          }
          double mx = -INFINITY, sum = 0;
          for (double l : logit) mx = std::max(mx, l);
          for (double& l : logit) sum += (l = std::exp(l - mx));
          for (int j = 0; j < N; ++j)
            for (int c = 0; c < D; ++c) ref[(i * H + h) * D + c] += logit[j] / sum * v[(j * H + h) * D + c];
        }
      EXPECT_LT(rel_err(out.data<float>(), ref), 1e-5) << "rel=" << rel << " causal=" << causal;
    }
  }
}

TEST_F(CpuOps, NormsActivationsAndRope) {
  const int64_t T = 5, D = 32;
  const auto xv = randn(T * D, 20), wv = randn(D, 21), bv = randn(D, 22);
  Tensor x = Tensor::from_f32(xv, {T, D}), y = be->empty({T, D}, DType::kF32);
  be->layer_norm(x, bf16_tensor(wv, {D}), bf16_tensor(bv, {D}), 1e-6f, y);
  std::vector<double> ref(T * D);
  for (int64_t t = 0; t < T; ++t) {
    double mean = 0, var = 0;
    for (int64_t i = 0; i < D; ++i) mean += xv[t * D + i] / double(D);
    for (int64_t i = 0; i < D; ++i) var += std::pow(xv[t * D + i] - mean, 2) / double(D);
    for (int64_t i = 0; i < D; ++i)
      ref[t * D + i] = (xv[t * D + i] - mean) / std::sqrt(var + 1e-6) * round_to_bf16(wv[i]) + round_to_bf16(bv[i]);
  }
  EXPECT_LT(rel_err(y.data<float>(), ref), 1e-5);

  Tensor g = Tensor::from_f32(xv, {T, D});
  be->gelu_erf(g);
  for (int64_t i = 0; i < T * D; ++i) ref[i] = 0.5 * xv[i] * (1 + std::erf(xv[i] / std::sqrt(2.0)));
  EXPECT_LT(rel_err(g.data<float>(), ref), 1e-5);

  Tensor r = Tensor::from_f32(xv, {T, D});
  be->rope_neox(r, {0, 1, 2, 7, 100}, 2, 16, 10000.0f);
  const int pos[] = {0, 1, 2, 7, 100};
  for (int64_t t = 0; t < T; ++t)
    for (int h = 0; h < 2; ++h)
      for (int i = 0; i < 8; ++i) {
        const double ang = pos[t] * std::pow(10000.0, -2.0 * i / 16);
        const double a = xv[t * D + h * 16 + i], b = xv[t * D + h * 16 + i + 8];
        ref[t * D + h * 16 + i] = a * std::cos(ang) - b * std::sin(ang);
        ref[t * D + h * 16 + i + 8] = b * std::cos(ang) + a * std::sin(ang);
      }
  EXPECT_LT(rel_err(r.data<float>(), ref), 1e-5);
}

TEST_F(CpuOps, MoeRoutesTopKWithoutRenormalising) {
  const int64_t T = 4, Dm = 16, I = 8, E = 5;
  const int k = 2;
  std::vector<ExpertWeights> experts;
  std::vector<std::vector<float>> g, u, d;
  for (int e = 0; e < E; ++e) {
    g.push_back(randn(I * Dm, 30 + e));
    u.push_back(randn(I * Dm, 40 + e));
    d.push_back(randn(Dm * I, 50 + e));
    experts.push_back({Tensor::from_f32(g[e], {I, Dm}), Tensor::from_f32(u[e], {I, Dm}), Tensor::from_f32(d[e], {Dm, I})});
  }
  const auto lv = randn(T * E, 60);
  std::vector<int32_t> ids;
  std::vector<float> wts;
  be->router_topk(Tensor::from_f32(lv, {T, E}), k, 1.0f, ids, wts);
  for (int64_t t = 0; t < T; ++t) {
    double sum = 0, mx = -1e30;
    for (int e = 0; e < E; ++e) mx = std::max<double>(mx, lv[t * E + e]);
    for (int e = 0; e < E; ++e) sum += std::exp(lv[t * E + e] - mx);
    const int best = int(std::max_element(lv.begin() + t * E, lv.begin() + (t + 1) * E) - (lv.begin() + t * E));
    EXPECT_EQ(ids[t * k], best);
    EXPECT_NEAR(wts[t * k], std::exp(lv[t * E + best] - mx) / sum, 1e-6);
    EXPECT_LT(wts[t * k] + wts[t * k + 1], 1.0f);
  }
  const auto xv = randn(T * Dm, 70);
  Tensor y = be->empty({T, Dm}, DType::kF32);
  be->moe_experts(Tensor::from_f32(xv, {T, Dm}), ids, wts, k, experts, y);
  std::vector<double> ref(T * Dm, 0.0);
  for (int64_t t = 0; t < T; ++t)
    for (int j = 0; j < k; ++j) {
      const int e = ids[t * k + j];
      std::vector<double> h(I);
      for (int64_t i = 0; i < I; ++i) {
        double a = 0, b = 0;
        for (int64_t c = 0; c < Dm; ++c) {
          a += g[e][i * Dm + c] * double(xv[t * Dm + c]);
          b += u[e][i * Dm + c] * double(xv[t * Dm + c]);
        }
        h[i] = a / (1 + std::exp(-a)) * b;
      }
      for (int64_t c = 0; c < Dm; ++c) {
        double o = 0;
        for (int64_t i = 0; i < I; ++i) o += d[e][c * I + i] * h[i];
        ref[t * Dm + c] += wts[t * k + j] * o;
      }
    }
  EXPECT_LT(rel_err(y.data<float>(), ref), 1e-5);
}

TEST_F(CpuOps, Im2colAndGather) {
  // 1 x 3 x 3 x 2 input, 3x3 kernel, stride 2, pad 1 -> 2x2 outputs of 18 columns.
  std::vector<float> xv(18);
  for (int i = 0; i < 18; ++i) xv[i] = float(i + 1);
  Tensor cols = be->empty({4, 18}, DType::kF32);
  be->im2col(Tensor::from_f32(xv, {1, 3, 3, 2}), 3, 2, 1, cols);
  // Output (0,0) centre is input (0,0): its kernel tap (1,1) of channel c is x[0][0][c].
  EXPECT_EQ(cols.data<float>()[0 * 9 + 4], 1.0f);
  EXPECT_EQ(cols.data<float>()[1 * 9 + 4], 2.0f);
  EXPECT_EQ(cols.data<float>()[0], 0.0f);  // tap (0,0) lies in the padding
  // Output (1,1) centre is input (2,2) = element (2*3+2)*2 + c.
  EXPECT_EQ(cols.data<float>()[3 * 18 + 4], xv[16]);
  Tensor g = be->empty({3, 2}, DType::kF32);
  be->gather_rows(bf16_tensor({1, 2, 3, 4}, {2, 2}), {1, -1, 0}, g);
  EXPECT_EQ(g.to_vector_f32(), (std::vector<float>{3, 4, 0, 0, 1, 2}));
}

TEST_F(CpuOps, Int8RowsMatchTheirDequantisedWeights) {
  const int64_t K = 100, N = 37;
  const auto wv = randn(N * K, 90);
  Tensor q = quantize_rows_int8(Tensor::from_f32(wv, {N, K}));
  ASSERT_EQ(q.dim(1), K + kInt8RowExtra);
  const auto bv = randn(N, 89);
  const Tensor bias = Tensor::from_f32(bv, {N});
  // The few-row kernel (up to 8 rows, 4 at a time), rows in blocks of 8 against pairs of weight
  // rows with a remainder of rows and an odd weight row (N = 37), and the dequantise-then-GEMM
  // path beyond 64 rows.
  for (int64_t M : {1, 5, 8, 20, 27, 64, 65}) {
    const auto xv = randn(M * K, 91 + M);
    Tensor y = be->empty({M, N}, DType::kF32);
    be->linear(Tensor::from_f32(xv, {M, K}), q, M % 2 ? nullptr : &bias, y);
    std::vector<double> ref(M * N), exact(M * N);
    for (int64_t n = 0; n < N; ++n) {
      float scale;
      std::memcpy(&scale, q.data<int8_t>() + n * (K + 4) + K, 4);
      for (int64_t m = 0; m < M; ++m) {
        double acc = 0, ex = 0;
        for (int64_t k = 0; k < K; ++k) {
          acc += double(xv[m * K + k]) * scale * q.data<int8_t>()[n * (K + 4) + k];
          ex += double(xv[m * K + k]) * wv[n * K + k];
        }
        const double b = M % 2 ? 0.0 : bv[n];
        ref[m * N + n] = acc + b;
        exact[m * N + n] = ex + b;
      }
    }
    EXPECT_LT(rel_err(y.data<float>(), ref), 1e-5) << "M=" << M;
    EXPECT_LT(rel_err(y.data<float>(), exact), 3e-2) << "quantisation error stays small, M=" << M;
  }
}

TEST_F(CpuOps, WriteCopiesOrRoundsToBf16) {
  const std::vector<float> v = {1.f, -2.5f, 1.00390625f, 3.14159f};  // 1 + 2^-8: a tie, rounds to even
  Tensor host = Tensor::from_f32(v, {4});
  Tensor same = be->empty({4}, DType::kF32), half = be->empty({4}, DType::kBF16);
  be->write(same, host);
  be->write(half, host);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(same.data<float>()[i], v[i]);
    EXPECT_EQ(half.data<uint16_t>()[i], f32_to_bf16(v[i])) << i;
  }
  EXPECT_EQ(bf16_to_f32(half.data<uint16_t>()[2]), 1.f);
  Tensor wrong = be->empty({3}, DType::kF32);
  EXPECT_THROW(be->write(wrong, host), Error);
}
