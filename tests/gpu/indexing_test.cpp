// gather_rows, rope_neox and im2col against host loops.
#include <cmath>

#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

using IndexingTest = GpuTest;

TEST_F(IndexingTest, GatherRowsAnyTableDtypeWithZeroRows) {
  const int64_t V = 100, C = 64;
  std::vector<float> table = random_bf16(V * C, 81);
  const std::vector<int32_t> index = {5, -1, 99, 0, 5, -1, 42};
  for (DType dt : {DType::kBF16, DType::kF32, DType::kF16}) {
    Tensor dst = be->empty({int64_t(index.size()), C}, DType::kBF16);
    be->gather_rows(to_dev(*be, table, {V, C}, dt), index, dst);
    std::vector<float> got = to_vec(*be, dst);
    for (size_t r = 0; r < index.size(); ++r)
      for (int64_t c = 0; c < C; ++c) {
        const float want = index[r] < 0 ? 0.f : (dt == DType::kF16 ? round_to_bf16(f16_to_f32(f32_to_f16(
                                                                          table[index[r] * C + c])))
                                                                    : table[index[r] * C + c]);
        ASSERT_EQ(got[r * C + c], want) << dtype_name(dt) << " row " << r << " col " << c;
      }
  }
  {  // f32 into f32: the 16-byte chunk path of same-dtype rows
    Tensor dst = be->empty({int64_t(index.size()), C}, DType::kF32);
    be->gather_rows(to_dev(*be, table, {V, C}, DType::kF32), index, dst);
    std::vector<float> got = to_vec(*be, dst);
    for (size_t r = 0; r < index.size(); ++r)
      for (int64_t c = 0; c < C; ++c)
        ASSERT_EQ(got[r * C + c], index[r] < 0 ? 0.f : table[index[r] * C + c]) << "f32 row " << r << " col " << c;
  }
  Tensor dst = be->empty({1, C}, DType::kBF16);
  EXPECT_THROW(be->gather_rows(to_dev(*be, table, {V, C}, DType::kBF16), {int32_t(V)}, dst), Error);
}

TEST_F(IndexingTest, RopeNeox) {
  const int T = 5, H = 10, D = 128;
  const float theta = 10000.f;
  std::vector<float> x = random_bf16(T * H * D, 91);
  const std::vector<int32_t> pos = {0, 1, 17, 285, 7999};
  Tensor dx = to_dev(*be, x, {T, H * D}, DType::kBF16);
  be->rope_neox(dx, pos, H, D, theta);
  std::vector<double> ref(x.size());
  for (int t = 0; t < T; ++t)
    for (int h = 0; h < H; ++h)
      for (int i = 0; i < D / 2; ++i) {
        const float inv_freq = 1.f / std::pow(theta, float(2 * i) / float(D));  // fp32, as HF
        const double ang = double(float(pos[t]) * inv_freq);
        const size_t base = (size_t(t) * H + h) * D;
        const double a = x[base + i], b = x[base + i + D / 2];
        ref[base + i] = a * std::cos(ang) - b * std::sin(ang);
        ref[base + i + D / 2] = b * std::cos(ang) + a * std::sin(ang);
      }
  const double err = rel_err(to_vec(*be, dx), ref);
  std::printf("rope_neox T=%d H=%d D=%d: rel_err %.3g\n", T, H, D, err);
  EXPECT_LE(err, kBf16Bound);
}

TEST_F(IndexingTest, Im2colChannelsLast) {
  const int B = 2, H = 9, W = 7, C = 3, k = 3, s = 2, pad = 1;
  const int Ho = (H + 2 * pad - k) / s + 1, Wo = (W + 2 * pad - k) / s + 1;
  std::vector<float> x = random_bf16(size_t(B) * H * W * C, 101);
  Tensor cols = be->empty({int64_t(B) * Ho * Wo, int64_t(C) * k * k}, DType::kBF16);
  be->im2col(to_dev(*be, x, {B, H, W, C}, DType::kBF16), k, s, pad, cols);
  std::vector<float> got = to_vec(*be, cols);
  size_t i = 0;
  for (int b = 0; b < B; ++b)
    for (int oy = 0; oy < Ho; ++oy)
      for (int ox = 0; ox < Wo; ++ox)
        for (int c = 0; c < C; ++c)
          for (int ky = 0; ky < k; ++ky)
            for (int kx = 0; kx < k; ++kx, ++i) {
              const int iy = oy * s - pad + ky, ix = ox * s - pad + kx;
              const float want = (iy < 0 || iy >= H || ix < 0 || ix >= W) ? 0.f : x[((size_t(b) * H + iy) * W + ix) * C + c];
              ASSERT_EQ(got[i], want) << "b" << b << " oy" << oy << " ox" << ox << " c" << c << " ky" << ky << " kx" << kx;
            }
}

}  // namespace
}  // namespace folio::gpu_test
