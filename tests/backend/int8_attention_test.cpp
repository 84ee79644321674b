// The int8 attention (AttentionSpec::int8, backend/cpu/attention_int8.h) against the fp32
// attention of the same backend (itself checked against a double reference in
// cpu_ops_test.cpp), and its AVX-512 packers against the scalar one byte for byte. Skipped on
// CPUs without AVX512-VNNI, where the backend runs fp32 attention for int8 specs.
#include <cmath>
#include <random>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "backend/cpu/attention_int8.h"
#include "backend/cpu/int8_linear.h"
#include "core/packed_int8.h"

#include "support/random_data.h"

using namespace folio;

namespace {

using folio::testing::randn;

std::pair<double, double> compare(const Tensor& a, const Tensor& b) {
  double md = 0, ss = 0, aa = 0, ab = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    md = std::max(md, std::fabs(x - y));
    ss += y * y;
    aa += x * x;
    ab += x * y;
  }
  return {md / std::sqrt(ss / b.numel()), ab / std::sqrt(aa * ss)};
}

struct Case {
  int batch, heads, grid_h, grid_w;
  bool rel, causal;
};

}  // namespace

TEST(Int8Attention, CloseToFp32Attention) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  auto be = make_backend("cpu");
  const int D = 64;
  // Key counts that are not multiples of 4 or 16, one past the 36-row query block, a causal
  // mask, and a SAM-like global grid with peaked logits (q scaled up).
  const Case cases[] = {{2, 3, 5, 7, true, false}, {1, 2, 1, 37, false, true}, {3, 2, 14, 14, true, false},
                        {1, 2, 24, 24, true, false}, {1, 1, 1, 257, false, false}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    const int64_t N = int64_t(c.grid_h) * c.grid_w, C = int64_t(c.heads) * D;
    const float q_scale = c.grid_h == 24 ? 3.0f : 1.0f;
    Tensor q = Tensor::from_f32(randn(c.batch * N * C, seed++, q_scale), {c.batch, N, C});
    Tensor k = Tensor::from_f32(randn(c.batch * N * C, seed++), {c.batch, N, C});
    Tensor v = Tensor::from_f32(randn(c.batch * N * C, seed++), {c.batch, N, C});
    AttentionSpec s;
    s.heads = c.heads;
    s.head_dim = D;
    s.scale = 0.125f;
    s.causal = c.causal;
    if (c.rel) {
      s.rel_pos_h = Tensor::from_f32(randn((2 * c.grid_h - 1) * D, seed++, 0.3f), {2 * c.grid_h - 1, D});
      s.rel_pos_w = Tensor::from_f32(randn((2 * c.grid_w - 1) * D, seed++, 0.3f), {2 * c.grid_w - 1, D});
      s.grid_h = c.grid_h;
      s.grid_w = c.grid_w;
    }
    Tensor want = be->empty({c.batch, N, C}, DType::kF32), got = be->empty({c.batch, N, C}, DType::kF32);
    be->attention(q, k, v, want, s);
    s.int8 = true;
    be->attention(q, k, v, got, s);
    const auto [rel, cosine] = compare(got, want);
    const std::string what = "grid " + std::to_string(c.grid_h) + "x" + std::to_string(c.grid_w);
    std::printf("%-12s max rel %.4f cosine %.6f\n", what.c_str(), rel, cosine);
    // Measured 0.04-0.06 max rel, 0.14 for the peaked grid (the int8 logits' error, amplified
    // by the softmax); cosine >= 0.99993.
    EXPECT_LT(rel, 0.2) << what;
    EXPECT_GT(cosine, 0.9995) << what;
  }
}

TEST(Int8Attention, VectorPackersWriteTheScalarPackersBytes) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  using namespace packed_int8;
  const int64_t rows = 37, K = 64, stride = 80;  // strided rows, a partial last group
  const std::vector<float> src = randn(rows * stride, 7);
  const int64_t bytes = padded_rows(rows) * (padded_k(K) + kRowExtra);
  std::vector<int8_t> scalar(bytes), vec(bytes);
  pack_rows(src.data(), rows, K, stride, scalar.data());
  cpu::pack_rows_vnni(src.data(), rows, K, stride, vec.data());
  EXPECT_EQ(scalar, vec);

  // Columns: the transpose of [keys = 37, cols = 32] packed as 32 rows of 37.
  const int64_t keys = 37, cols = 32;
  std::vector<float> transposed(cols * keys);
  for (int64_t j = 0; j < keys; ++j)
    for (int64_t c = 0; c < cols; ++c) transposed[c * keys + j] = src[j * stride + c];
  const int64_t col_bytes = padded_rows(cols) * (padded_k(keys) + kRowExtra);
  std::vector<int8_t> want(col_bytes), got(col_bytes);
  pack_rows(transposed.data(), cols, keys, keys, want.data());
  cpu::pack_cols_vnni(src.data(), keys, cols, stride, got.data());
  EXPECT_EQ(want, got);
}
