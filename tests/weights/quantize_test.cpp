// The load-time int8 quantisation (weights/quantize.h) byte for byte against the rule written
// out here with libm: scale = max|w[n]| / 127, code = lrint(w / scale) (half to even), for
// f32, bf16 and f16 weights, rows of every tail length, exact halfway values, zero rows and
// rows with a NaN, an infinity or only subnormal values.
#include <cfloat>
#include <cmath>
#include <cstring>
#include <limits>
#include <random>

#include <gtest/gtest.h>

#include "core/bf16.h"
#include "weights/quantize.h"

using namespace folio;

namespace {

// The rule on the values the quantiser sees (16-bit weights as their f32 values).
void expect_rule(const Tensor& q, const std::vector<float>& values, int64_t N, int64_t K, const char* what) {
  ASSERT_EQ(q.dtype(), DType::kI8);
  ASSERT_EQ(q.shape(), (Shape{N, K + kInt8RowExtra}));
  for (int64_t n = 0; n < N; ++n) {
    const float* row = values.data() + n * K;
    float amax = 0.0f;
    for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
    const float scale = amax > 0 ? amax / 127.0f : 1.0f;
    const int8_t* got = q.data<int8_t>() + n * (K + kInt8RowExtra);
    float got_scale;
    std::memcpy(&got_scale, got + K, 4);
    ASSERT_EQ(std::memcmp(&got_scale, &scale, 4), 0) << what << " row " << n;
    for (int64_t k = 0; k < K; ++k)
      ASSERT_EQ(got[k], static_cast<int8_t>(std::lrint(row[k] / scale))) << what << " row " << n << " k " << k
                                                                           << " value " << row[k];
  }
}

// Rows of length K: random values, values halfway between two codes, a zero row, and rows with
// a NaN, an infinity and only subnormal values.
std::vector<float> test_rows(int64_t K, int64_t N, uint32_t seed) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, 0.05f);
  std::vector<float> v(N * K);
  for (auto& x : v) x = d(g);
  // Row 1: the largest value 127 (scale exactly 1), the others m + 0.5: ties, both signs.
  if (N > 1)
    for (int64_t k = 0; k < K; ++k) v[K + k] = k == 0 ? 127.0f : ((k % 7) - 3) + (k % 2 ? 0.5f : -0.5f);
  if (N > 2) std::fill(v.begin() + 2 * K, v.begin() + 3 * K, 0.0f);
  if (N > 3) v[3 * K + K / 2] = std::numeric_limits<float>::quiet_NaN();
  if (N > 4) v[4 * K] = std::numeric_limits<float>::infinity();
  if (N > 5)
    for (int64_t k = 0; k < K; ++k) v[5 * K + k] = (k % 3 - 1) * FLT_MIN / 4;
  return v;
}

}  // namespace

TEST(QuantizeInt8, MatchesTheRoundingRuleForEveryWeightType) {
  for (int64_t K : {1, 15, 16, 37, 64, 1280}) {
    const int64_t N = 70;  // more than one task of the parallel split (64 rows)
    const std::vector<float> v = test_rows(K, N, static_cast<uint32_t>(K));
    expect_rule(quantize_rows_int8(Tensor::from_f32(v, {N, K})), v, N, K, "f32");

    Tensor bf = Tensor::empty({N, K}, DType::kBF16), hf = Tensor::empty({N, K}, DType::kF16);
    std::vector<float> bf_values(v.size()), hf_values(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
      bf.data<uint16_t>()[i] = f32_to_bf16(v[i]);
      hf.data<uint16_t>()[i] = f32_to_f16(v[i]);
      bf_values[i] = bf16_to_f32(bf.data<uint16_t>()[i]);
      hf_values[i] = f16_to_f32(hf.data<uint16_t>()[i]);
    }
    expect_rule(quantize_rows_int8(bf), bf_values, N, K, "bf16");
    expect_rule(quantize_rows_int8(hf), hf_values, N, K, "f16");
  }
}

TEST(QuantizeInt8, RandomRowsOfManyScales) {
  // A million weights over rows whose magnitudes span 1e-30 .. 1e30.
  const int64_t N = 800, K = 1283;
  std::mt19937 g(11);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::uniform_real_distribution<float> e(-30.0f, 30.0f);
  std::vector<float> v(N * K);
  for (int64_t n = 0; n < N; ++n) {
    const float m = std::pow(10.0f, e(g));
    for (int64_t k = 0; k < K; ++k) v[n * K + k] = d(g) * m;
  }
  expect_rule(quantize_rows_int8(Tensor::from_f32(v, {N, K})), v, N, K, "f32");
}
