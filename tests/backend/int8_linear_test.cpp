// The int8 product (weights packed by weights/pack_int8.h) against a straightforward
// reference of the documented quantisation, written here in double: symmetric per-row int8
// weights, per-row u8 activations with a zero point, exact integer sums. Both kernels (VNNI
// where the CPU has it, portable always) must agree with it to float rounding; and the
// quantisation itself must stay close to the fp32 product.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/int8_linear.h"
#include "weights/pack_int8.h"

#include "support/random_data.h"

using namespace folio;

namespace {

using folio::testing::randn;

// Activations with the shapes that stress a per-row scheme: an all-zero row, a one-sided
// row (GELU-like), a row with one outlier, and plain Gaussian rows.
std::vector<float> activations(int64_t M, int64_t K, uint32_t seed) {
  std::vector<float> x = randn(M * K, seed);
  if (M > 1) std::fill(x.begin() + K, x.begin() + 2 * K, 0.0f);
  if (M > 2)
    for (int64_t k = 0; k < K; ++k) x[2 * K + k] = std::max(x[2 * K + k], -0.17f);
  if (M > 3) x[3 * K + K / 2] = 40.0f;
  return x;
}

// y = Σ_k (sa (code - zero)) (sw q) + bias in double, codes from the documented formulas.
std::vector<double> reference(const std::vector<float>& x, const std::vector<float>& w, const std::vector<float>& bias,
                              int64_t M, int64_t K, int64_t N) {
  std::vector<double> wq(N * K);
  for (int64_t n = 0; n < N; ++n) {
    float amax = 0;
    for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(w[n * K + k]));
    const float s = amax > 0 ? amax / 127.0f : 1.0f;
    for (int64_t k = 0; k < K; ++k) wq[n * K + k] = double(s) * std::lrint(w[n * K + k] / s);
  }
  std::vector<double> y(M * N);
  std::vector<double> xq(K);
  for (int64_t m = 0; m < M; ++m) {
    const float* xr = &x[m * K];
    const float lo = std::min(0.0f, *std::min_element(xr, xr + K)), hi = std::max(0.0f, *std::max_element(xr, xr + K));
    const float s = (hi - lo) / 255.0f;
    const float inv = s > 0 ? 1.0f / s : 1.0f;
    const float zero = s > 0 ? std::nearbyint(-lo * inv) : 0.0f;
    for (int64_t k = 0; k < K; ++k) {
      const float code = std::clamp(std::nearbyint(xr[k] * inv) + zero, 0.0f, 255.0f);
      xq[k] = s > 0 ? double(s) * (code - zero) : 0.0;
    }
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias.empty() ? 0.0 : bias[n];
      for (int64_t k = 0; k < K; ++k) acc += xq[k] * wq[n * K + k];
      y[m * N + n] = acc;
    }
  }
  return y;
}

std::vector<double> exact_product(const std::vector<float>& x, const std::vector<float>& w,
                                  const std::vector<float>& bias, int64_t M, int64_t K, int64_t N) {
  std::vector<double> y(M * N);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) {
      double acc = bias.empty() ? 0.0 : bias[n];
      for (int64_t k = 0; k < K; ++k) acc += double(x[m * K + k]) * w[n * K + k];
      y[m * N + n] = acc;
    }
  return y;
}

// max |a - b| / rms(b), and the cosine of a and b.
std::pair<double, double> compare(const float* a, const std::vector<double>& b) {
  double md = 0, ss = 0, aa = 0, ab = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    md = std::max(md, std::fabs(a[i] - b[i]));
    ss += b[i] * b[i];
    aa += double(a[i]) * a[i];
    ab += a[i] * b[i];
  }
  return {md / std::sqrt(ss / b.size()), ab / std::sqrt(aa * ss)};
}

struct Case {
  int64_t M, K, N;
};

}  // namespace

TEST(Int8Linear, PackedProductMatchesTheQuantisedReference) {
  auto be = make_backend("cpu");
  if (!cpu::have_avx512_vnni()) std::printf("no AVX512-VNNI on this CPU: the auto kernel is the portable one\n");
  // K not a multiple of 4 or 16, K above the kernel's K block (512), N not a multiple of 64,
  // M around the 6-row tile and the task split (64 rows per task, 256-row blocks; up to 512
  // rows with 17 column panels, CLIP's case: column tasks only, all rows in one block).
  const Case cases[] = {{1, 4, 16},    {5, 12, 32},   {7, 200, 80},   {13, 202, 48},  {64, 768, 64},
                        {257, 1030, 112}, {300, 64, 16}, {600, 96, 208}, {70, 4608, 32}, {301, 200, 1040}};
  uint32_t seed = 1;
  for (const Case& c : cases) {
    const auto xv = activations(c.M, c.K, seed++), wv = randn(c.N * c.K, seed++, 0.05f), bv = randn(c.N, seed++);
    const Tensor wp = pack_rows_int8(Tensor::from_f32(wv, {c.N, c.K}));
    const Tensor b = Tensor::from_f32(bv, {c.N});
    const Tensor x = Tensor::from_f32(xv, {c.M, c.K});
    const std::vector<double> ref = reference(xv, wv, bv, c.M, c.K, c.N);
    const std::vector<double> exact = exact_product(xv, wv, bv, c.M, c.K, c.N);
    const std::string what = "M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " N=" + std::to_string(c.N);

    Tensor y = be->empty({c.M, c.N}, DType::kF32);
    be->linear(x, wp, &b, y);
    EXPECT_LT(compare(y.data<float>(), ref).first, 1e-5) << what << " (backend, auto kernel)";
    // Against fp32: the cosine over all rows; the max error over the plain rows (4..), since
    // the outlier row is coarse by design (its step is 1/255 of its range).
    EXPECT_GT(compare(y.data<float>(), exact).second, 0.999) << what << " against the fp32 product";
    if (c.M > 4) {
      const std::vector<double> plain(exact.begin() + 4 * c.N, exact.end());
      const auto [rel, cosine] = compare(y.data<float>() + 4 * c.N, plain);
      std::printf("%-24s plain rows vs fp32: max rel %.4f cosine %.6f\n", what.c_str(), rel, cosine);
      EXPECT_LT(rel, 6e-2) << what << " against the fp32 product";  // measured 0.004-0.045
      EXPECT_GT(cosine, 0.9995) << what << " against the fp32 product";
    }

    Tensor yp = Tensor::empty({c.M, c.N}, DType::kF32);
    cpu::linear_packed_int8(xv.data(), c.M, c.K, wp, bv.data(), yp.data<float>(), cpu::Int8Kernel::kPortable);
    EXPECT_LT(compare(yp.data<float>(), ref).first, 1e-5) << what << " (portable kernel)";
  }
}

TEST(Int8Linear, RowViewsAtGroupBoundariesAreWeights) {
  // The fused q/k/v projection is split into row ranges of one packed weight.
  auto be = make_backend("cpu");
  const int64_t M = 20, K = 64, N = 96;
  const auto xv = activations(M, K, 7), wv = randn(N * K, 8), bv = randn(N, 9);
  const Tensor wp = pack_rows_int8(Tensor::from_f32(wv, {N, K}));
  for (int64_t part = 0; part < 3; ++part) {
    const int64_t n0 = part * 32, n1 = n0 + 32;
    const std::vector<float> wpart(wv.begin() + n0 * K, wv.begin() + n1 * K), bpart(bv.begin() + n0, bv.begin() + n1);
    const Tensor b = Tensor::from_f32(bpart, {32});
    Tensor y = be->empty({M, 32}, DType::kF32);
    be->linear(Tensor::from_f32(xv, {M, K}), wp.rows(n0, n1), &b, y);
    EXPECT_LT(compare(y.data<float>(), reference(xv, wpart, bpart, M, K, 32)).first, 1e-5) << "rows " << n0;
  }
}

// linear_many (x quantised once for the q, k and v parts of a fused projection) gives bit for
// bit the values of one linear per part: with many rows (tasks split the rows) and with few
// rows and many columns (tasks split the columns of the three parts taken together, so that
// some tasks straddle two parts), with and without biases.
TEST(Int8Linear, ProductsSharingTheirInputEqualSeparateProducts) {
  auto be = make_backend("cpu");
  for (const Case c : {Case{700, 96, 3 * 48}, Case{90, 64, 3 * 256}, Case{5, 40, 3 * 16}}) {
    const int64_t d = c.N / 3;
    const auto xv = activations(c.M, c.K, 11), wv = randn(c.N * c.K, 12), bv = randn(c.N, 13);
    const Tensor x = Tensor::from_f32(xv, {c.M, c.K});
    const Tensor wp = pack_rows_int8(Tensor::from_f32(wv, {c.N, c.K}));
    const Tensor bias = Tensor::from_f32(bv, {c.N});
    for (const bool with_bias : {true, false}) {
      Tensor w[3], b[3], many[3], single[3];
      for (int i = 0; i < 3; ++i) {
        w[i] = wp.rows(i * d, (i + 1) * d);
        b[i] = bias.rows(i * d, (i + 1) * d);
        many[i] = be->empty({c.M, d}, DType::kF32);
        single[i] = be->empty({c.M, d}, DType::kF32);
        be->linear(x, w[i], with_bias ? &b[i] : nullptr, single[i]);
      }
      const Tensor* none = nullptr;
      be->linear_many(x, {&w[0], &w[1], &w[2]}, with_bias ? std::vector<const Tensor*>{&b[0], &b[1], &b[2]} :
                                                             std::vector<const Tensor*>{none, none, none},
                      {&many[0], &many[1], &many[2]});
      for (int i = 0; i < 3; ++i)
        EXPECT_EQ(0, std::memcmp(many[i].data<float>(), single[i].data<float>(), c.M * d * sizeof(float)))
            << "M=" << c.M << " part " << i << (with_bias ? " with bias" : "");
    }
  }
}

TEST(Int8Linear, BackendReportsTheCpuFeature) {
  EXPECT_EQ(make_backend("cpu")->fast_int8_linear(), cpu::have_avx512_vnni());
}

// The VNNI activation quantiser (64 codes at a time clamped by saturating packs, then 16 at a
// time, then a masked tail) writes the portable one's codes, scales and zero points, for K
// that end on each of those paths and rows at the edges of the scheme (all zero, one-sided,
// an outlier, values on the rounding ties of the codes).
TEST(Int8Linear, VnniQuantisationWritesThePortableCodes) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  for (const int64_t K : {16, 64, 80, 100, 768, 1000, 3072}) {
    const int64_t M = 9, Kp = (K + 3) / 4 * 4 + 8, ldx = K + 5;
    const std::vector<float> rows = activations(M, K, static_cast<uint32_t>(K));
    std::vector<float> x(M * ldx, 1e30f);  // the stride's gap must not be read
    for (int64_t r = 0; r < M; ++r) std::copy_n(rows.begin() + r * K, K, x.begin() + r * ldx);
    for (int64_t k = 0; k < K; ++k) {
      x[4 * ldx + k] = -std::fabs(x[4 * ldx + k]);            // all negative: zero point 255
      x[5 * ldx + k] = 3.0f;                                  // constant
      x[6 * ldx + k] = (static_cast<float>(k % 255) - 127.5f) * (8.0f / 255.0f);  // on the ties
    }
    std::vector<uint8_t> q_vnni(M * Kp, 1), q_port(M * Kp, 2);
    std::vector<float> s_vnni(M), s_port(M);
    std::vector<int32_t> z_vnni(M), z_port(M);
    cpu::quantize_rows_u8_vnni(x.data(), ldx, M, K, Kp, q_vnni.data(), s_vnni.data(), z_vnni.data());
    cpu::quantize_rows_u8_portable(x.data(), ldx, M, K, Kp, q_port.data(), s_port.data(), z_port.data());
    EXPECT_EQ(q_vnni, q_port) << "K=" << K;
    EXPECT_EQ(s_vnni, s_port) << "K=" << K;
    EXPECT_EQ(z_vnni, z_port) << "K=" << K;
  }
}

// linear_then on packed weights (the step fused into the int8 product's epilogue) gives
// bit for bit what linear followed by the separate op gives, for short (exact f32 epilogue)
// and long K, partial column groups and a tail of rows; and the portable kernel's fused steps
// match too, to its own rounding.
TEST(Int8Linear, FusedStepsEqualTheSeparateOps) {
  auto be = make_backend("cpu");
  using Then = Backend::LinearThen;
  struct Shape3 {
    int64_t M, K, N;
  };
  const Shape3 shapes[] = {{37, 64, 48}, {70, 768, 80}, {263, 1030, 32}};
  uint32_t seed = 900;
  for (const Shape3& c : shapes) {
    const auto xv = activations(c.M, c.K, seed++), wv = randn(c.N * c.K, seed++, 0.05f), bv = randn(c.N, seed++);
    const auto resid = randn(c.M * c.N, seed++);
    const Tensor x = Tensor::from_f32(xv, {c.M, c.K}), b = Tensor::from_f32(bv, {c.N});
    const Tensor wp = pack_rows_int8(Tensor::from_f32(wv, {c.N, c.K}));
    for (Then then : {Then::kGeluErf, Then::kQuickGelu, Then::kAddTo}) {
      const std::string what = "M=" + std::to_string(c.M) + " K=" + std::to_string(c.K) + " step " +
                               std::to_string(static_cast<int>(then));
      // Separate ops.
      Tensor plain = be->empty({c.M, c.N}, DType::kF32);
      be->linear(x, wp, &b, plain);
      Tensor want = Tensor::from_f32(resid, {c.M, c.N});
      if (then == Then::kGeluErf) be->gelu_erf(plain);
      if (then == Then::kQuickGelu) be->quick_gelu(plain);
      if (then == Then::kAddTo) be->add(want, plain, want);
      else want = plain;
      // Fused.
      Tensor got = Tensor::from_f32(resid, {c.M, c.N});
      be->linear_then(x, wp, &b, then, got);
      int64_t differ = 0;
      for (int64_t i = 0; i < want.numel(); ++i) differ += want.data<float>()[i] != got.data<float>()[i];
      if (cpu::have_avx512_vnni()) EXPECT_EQ(differ, 0) << what;
      // The portable kernel with the same step, against the fused result.
      std::vector<float> port = resid;
      cpu::linear_packed_int8(xv.data(), c.M, c.K, wp, bv.data(), port.data(), cpu::Int8Kernel::kPortable,
                              then == Then::kGeluErf     ? cpu::Int8Then::kGeluErf
                              : then == Then::kQuickGelu ? cpu::Int8Then::kQuickGelu
                                                         : cpu::Int8Then::kAddTo);
      double worst = 0;
      for (int64_t i = 0; i < want.numel(); ++i)
        worst = std::max(worst, double(std::fabs(port[i] - got.data<float>()[i])) / (1.0 + std::fabs(got.data<float>()[i])));
      EXPECT_LT(worst, 1e-5) << what << " (portable)";
    }
  }
}

// mlp_add with packed weights and enough rows takes the per-block fused path; it must give
// bit for bit the two linear_then calls it replaces (GELU and quick GELU, a partial last
// block of rows, K not a multiple of 4 in the first product, biases and none).
TEST(Int8Linear, FusedMlpEqualsTheTwoProducts) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  auto be = make_backend("cpu");
  using Then = Backend::LinearThen;
  const int64_t M = 613, K = 770, H = 208, N = 96;
  uint32_t seed = 1200;
  const auto xv = activations(M, K, seed++), w1v = randn(H * K, seed++, 0.05f), w2v = randn(N * H, seed++, 0.05f);
  const auto b1v = randn(H, seed++), b2v = randn(N, seed++), resid = randn(M * N, seed++);
  const Tensor x = Tensor::from_f32(xv, {M, K}), b1 = Tensor::from_f32(b1v, {H}), b2 = Tensor::from_f32(b2v, {N});
  const Tensor w1 = pack_rows_int8(Tensor::from_f32(w1v, {H, K})), w2 = pack_rows_int8(Tensor::from_f32(w2v, {N, H}));
  for (Then act : {Then::kGeluErf, Then::kQuickGelu})
    for (bool biases : {true, false}) {
      Tensor want = Tensor::from_f32(resid, {M, N}), mid = be->empty({M, H}, DType::kF32);
      be->linear_then(x, w1, biases ? &b1 : nullptr, act, mid);
      be->linear_then(mid, w2, biases ? &b2 : nullptr, Then::kAddTo, want);
      Tensor got = Tensor::from_f32(resid, {M, N});
      be->mlp_add(x, w1, biases ? &b1 : nullptr, act, w2, biases ? &b2 : nullptr, got);
      int64_t differ = 0;
      for (int64_t i = 0; i < want.numel(); ++i) differ += want.data<float>()[i] != got.data<float>()[i];
      EXPECT_EQ(differ, 0) << "act " << static_cast<int>(act) << (biases ? " with" : " without") << " biases";
      // And it did add: the result is not the residual alone.
      EXPECT_NE(got.data<float>()[5], resid[5]);
    }
}
