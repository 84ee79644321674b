// The packed layout (core/packed_int8.h) read back byte by byte: the codes equal the
// decoder's per-row int8 quantisation (weights/quantize.h), the scales and row sums sit after
// each 16-row group, and the k padding is zero.
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "core/packed_int8.h"
#include "weights/pack_int8.h"
#include "weights/quantize.h"

using namespace folio;
using namespace folio::packed_int8;

TEST(PackInt8, LayoutHoldsTheRowQuantisationInGroupsOf16) {
  const int64_t N = 48, K = 37, Kp = padded_k(K);
  ASSERT_EQ(Kp, 40);
  std::mt19937 g(3);
  std::normal_distribution<float> d(0.0f, 1.0f);
  std::vector<float> wv(N * K);
  for (auto& v : wv) v = d(g);
  const Tensor w = Tensor::from_f32(wv, {N, K});
  const Tensor p = pack_rows_int8(w), q = quantize_rows_int8(w);
  ASSERT_EQ(p.dtype(), DType::kI8Packed);
  ASSERT_EQ(p.shape(), (Shape{N, Kp + kRowExtra}));
  for (int64_t n = 0; n < N; ++n) {
    const int8_t* group = p.data<int8_t>() + (n / kGroupRows) * group_bytes(Kp);
    const int64_t r = n % kGroupRows;
    const int8_t* row = q.data<int8_t>() + n * (K + kInt8RowExtra);
    int32_t sum = 0;
    for (int64_t k = 0; k < Kp; ++k) {
      const int8_t code = group[(k / kKStep) * kGroupRows * kKStep + r * kKStep + k % kKStep];
      EXPECT_EQ(code, k < K ? row[k] : 0) << "n=" << n << " k=" << k;
      sum += code;
    }
    float scale, want_scale;
    int32_t stored_sum;
    std::memcpy(&scale, group + scale_offset(Kp) + r * 4, 4);
    std::memcpy(&want_scale, row + K, 4);
    std::memcpy(&stored_sum, group + row_sum_offset(Kp) + r * 4, 4);
    EXPECT_EQ(scale, want_scale) << "n=" << n;
    EXPECT_EQ(stored_sum, sum) << "n=" << n;
  }
}

TEST(PackInt8, RefusesRowCountsThatAreNotGroups) {
  const Tensor w = Tensor::zeros({20, 8}, DType::kF32);
  EXPECT_FALSE(can_pack_rows_int8(w));
  EXPECT_THROW(pack_rows_int8(w), Error);
}
