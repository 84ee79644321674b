// linear (cuBLASLt) against a double-precision host product at model shapes.
#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

struct LinearCase {
  int64_t M, K, N;
  DType xdt, wdt, ydt;
  bool bias;
  DType bdt;
  double bound;
};

class LinearTest : public GpuTest, public ::testing::WithParamInterface<LinearCase> {};

TEST_P(LinearTest, MatchesHostReference) {
  const LinearCase c = GetParam();
  const float wscale = 1.f / std::sqrt(float(c.K));
  std::vector<float> x = random_bf16(c.M * c.K, 1), w = random_bf16(c.N * c.K, 2, -wscale, wscale),
                     b = random_bf16(c.N, 3);
  Tensor dx = to_dev(*be, x, {c.M, c.K}, c.xdt), dw = to_dev(*be, w, {c.N, c.K}, c.wdt), db = to_dev(*be, b, {c.N}, c.bdt);
  Tensor dy = be->empty({c.M, c.N}, c.ydt);
  be->linear(dx, dw, c.bias ? &db : nullptr, dy);
  std::vector<double> ref(c.M * c.N);
  for (int64_t m = 0; m < c.M; ++m)
    for (int64_t n = 0; n < c.N; ++n) {
      double acc = c.bias ? b[n] : 0.0;
      const float* xr = &x[m * c.K];
      const float* wr = &w[n * c.K];
      for (int64_t k = 0; k < c.K; ++k) acc += double(xr[k]) * wr[k];
      ref[m * c.N + n] = acc;
    }
  const std::vector<float> got = to_vec(*be, dy);
  const double err = rel_err(got, ref), rerr = rms_err(got, ref);
  RecordProperty("rel_err", std::to_string(err));
  std::printf("linear M=%lld K=%lld N=%lld x=%s w=%s y=%s bias=%d: rel_err %.3g rms_err %.3g\n", (long long)c.M, (long long)c.K,
              (long long)c.N, dtype_name(c.xdt), dtype_name(c.wdt), dtype_name(c.ydt), int(c.bias), err, rerr);
  EXPECT_LE(err, c.bound);
  EXPECT_LE(rerr, c.bound * kBf16RmsBound / kBf16Bound);
}

constexpr DType B = DType::kBF16, F = DType::kF32, H = DType::kF16;
INSTANTIATE_TEST_SUITE_P(Shapes, LinearTest,
                         ::testing::Values(LinearCase{1, 1280, 1280, B, B, B, false, B, kBf16Bound},
                                           LinearCase{7, 1280, 6848, B, B, B, true, B, kBf16Bound},
                                           LinearCase{256, 1280, 1280, B, B, B, true, F, kBf16Bound},
                                           LinearCase{300, 768, 2304, B, B, B, true, B, kBf16Bound},
                                           LinearCase{5, 1280, 129, B, B, F, false, B, kBf16Bound},
                                           LinearCase{8, 896, 1280, B, B, B, true, F, kBf16Bound},
                                           LinearCase{2, 72, 40, B, B, F, true, B, kBf16Bound},
                                           LinearCase{33, 72, 40, F, F, F, true, F, 1e-4},
                                           LinearCase{9, 64, 48, B, F, B, true, H, kBf16Bound},
                                           LinearCase{3, 96, 24, B, H, B, false, B, kBf16Bound},
                                           // The vision encoder's f16 products (SAM qkv, CLIP MLP into
                                           // the f32 residual), and an f16 product of bf16/f32 weights.
                                           LinearCase{300, 768, 2304, H, H, H, true, H, kF16Bound},
                                           LinearCase{257, 4096, 1024, H, H, F, true, H, kF16Bound},
                                           LinearCase{64, 72, 40, H, B, H, true, F, kF16Bound},
                                           LinearCase{9, 64, 48, H, F, F, true, F, kF16Bound}),
                         [](const ::testing::TestParamInfo<LinearCase>& i) {
                           const LinearCase& c = i.param;
                           return "M" + std::to_string(c.M) + "_K" + std::to_string(c.K) + "_N" + std::to_string(c.N) +
                                  "_" + dtype_name(c.xdt) + dtype_name(c.wdt) + dtype_name(c.ydt) + (c.bias ? "_bias" : "");
                         });

using LinearErrors = GpuTest;
TEST_F(LinearErrors, ShapeMismatchThrowsWithShapes) {
  Tensor x = be->empty({4, 64}, DType::kBF16), w = be->empty({32, 48}, DType::kBF16), y = be->empty({4, 32}, DType::kBF16);
  try {
    be->linear(x, w, nullptr, y);
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("[32, 48]"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace folio::gpu_test
