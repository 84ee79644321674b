// Norms, adds, activations and casts against straightforward host loops.
#include <cmath>

#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

using NormTest = GpuTest;
using ElementwiseTest = GpuTest;

// In place in bf16 (CLIP's width), an f32 residual into bf16 (SAM's), the neck's 256 channels
// (all three one warp per row), and a width that is not a multiple of 128 (one block per row);
// then the same into f16, the vision encoder's activations on CUDA.
TEST_F(NormTest, LayerNormWithLargeMean) {
  struct Case {
    int64_t rows, D;
    DType x_dt, y_dt;
  };
  for (const Case& c : {Case{257, 1024, DType::kBF16, DType::kBF16}, Case{300, 768, DType::kF32, DType::kBF16},
                        Case{70, 256, DType::kF32, DType::kF32}, Case{33, 100, DType::kBF16, DType::kBF16},
                        Case{300, 768, DType::kF32, DType::kF16}, Case{70, 256, DType::kF16, DType::kF16},
                        Case{33, 100, DType::kF32, DType::kF16}}) {
    const int64_t rows = c.rows, D = c.D;
    std::vector<float> x = random_bf16(rows * D, 11, 9.f, 11.f), w = random_bf16(D, 12), b = random_bf16(D, 13);
    Tensor dx = to_dev(*be, x, {rows, D}, c.x_dt);
    Tensor dy = c.x_dt == c.y_dt ? dx : be->empty({rows, D}, c.y_dt);  // same dtype: in place
    be->layer_norm(dx, to_dev(*be, w, {D}, DType::kF32), to_dev(*be, b, {D}, DType::kBF16), 1e-6f, dy);
    std::vector<double> ref(rows * D);
    for (int64_t r = 0; r < rows; ++r) {
      double mean = 0, var = 0;
      for (int64_t i = 0; i < D; ++i) mean += x[r * D + i];
      mean /= D;
      for (int64_t i = 0; i < D; ++i) var += (x[r * D + i] - mean) * (x[r * D + i] - mean);
      var /= D;
      for (int64_t i = 0; i < D; ++i) ref[r * D + i] = (x[r * D + i] - mean) / std::sqrt(var + 1e-6) * w[i] + b[i];
    }
    const double err = rel_err(to_vec(*be, dy), ref);
    std::printf("layer_norm [%lld, %lld] %s -> %s: rel_err %.3g\n", (long long)rows, (long long)D,
                dtype_name(c.x_dt), dtype_name(c.y_dt), err);
    EXPECT_LE(err, c.y_dt == DType::kF16 ? kF16Bound : kBf16Bound) << "D " << D;
  }
}

TEST_F(NormTest, RmsNorm) {
  const int64_t rows = 33, D = 1280;
  std::vector<float> x = random_bf16(rows * D, 21, -3.f, 3.f), w = random_bf16(D, 22);
  Tensor dx = to_dev(*be, x, {rows, D}, DType::kBF16), dy = be->empty({rows, D}, DType::kBF16);
  be->rms_norm(dx, to_dev(*be, w, {D}, DType::kBF16), 1e-6f, dy);
  std::vector<double> ref(rows * D);
  for (int64_t r = 0; r < rows; ++r) {
    double ms = 0;
    for (int64_t i = 0; i < D; ++i) ms += double(x[r * D + i]) * x[r * D + i];
    const double inv = 1.0 / std::sqrt(ms / D + 1e-6);
    for (int64_t i = 0; i < D; ++i) ref[r * D + i] = x[r * D + i] * inv * w[i];
  }
  const double err = rel_err(to_vec(*be, dy), ref);
  std::printf("rms_norm [%lld, %lld]: rel_err %.3g\n", (long long)rows, (long long)D, err);
  EXPECT_LE(err, kBf16Bound);
}

TEST_F(ElementwiseTest, AddAndAddBroadcast) {
  const int64_t B = 2, N = 257, C = 1024;
  std::vector<float> a = random_bf16(B * N * C, 31), b = random_bf16(B * N * C, 32), p = random_bf16(N * C, 33);
  Tensor da = to_dev(*be, a, {B, N, C}, DType::kBF16), db = to_dev(*be, b, {B, N, C}, DType::kBF16);
  be->add(da, db, da);  // y aliases a
  be->add_broadcast(da, to_dev(*be, p, {N, C}, DType::kF32));
  std::vector<double> ref(a.size());
  for (size_t i = 0; i < a.size(); ++i) ref[i] = double(a[i]) + b[i] + p[i % (N * C)];
  const double err = rel_err(to_vec(*be, da), ref);
  std::printf("add+add_broadcast: rel_err %.3g\n", err);
  EXPECT_LE(err, kBf16Bound);
}

TEST_F(ElementwiseTest, Activations) {
  for (const DType dt : {DType::kBF16, DType::kF16})
  for (const int64_t n : {4096, 4093}) {  // 16-byte chunks, and the element loop
    std::vector<float> x = random_bf16(n, 41, -6.f, 6.f);
    Tensor g = to_dev(*be, x, {n}, dt), q = to_dev(*be, x, {n}, dt);
    be->gelu_erf(g);
    be->quick_gelu(q);
    std::vector<double> rg(n), rq(n);
    for (int64_t i = 0; i < n; ++i) {
      rg[i] = 0.5 * x[i] * (1 + std::erf(x[i] / std::sqrt(2.0)));
      rq[i] = x[i] / (1 + std::exp(-1.702 * x[i]));
    }
    const double eg = rel_err(to_vec(*be, g), rg), eq = rel_err(to_vec(*be, q), rq);
    std::printf("%s gelu_erf rel_err %.3g, quick_gelu rel_err %.3g\n", dtype_name(dt), eg, eq);
    const double bound = dt == DType::kF16 ? kF16Bound : kBf16Bound;
    EXPECT_LE(eg, bound) << n;
    EXPECT_LE(eq, bound) << n;
  }
}

// Backend::silu_mul(gate, up, y), written in place over gate as the decoder does.
TEST_F(ElementwiseTest, SiluMulInPlaceOverGate) {
  const int64_t T = 37, I = 896;
  std::vector<float> gv = random_bf16(T * I, 51, -4.f, 4.f), uv = random_bf16(T * I, 52, -4.f, 4.f);
  Tensor g = to_dev(*be, gv, {T, I}, DType::kBF16);
  be->silu_mul(g, to_dev(*be, uv, {T, I}, DType::kBF16), g);
  std::vector<double> ref(T * I);
  for (int64_t e = 0; e < T * I; ++e) ref[e] = gv[e] / (1 + std::exp(-double(gv[e]))) * uv[e];
  const double err = rel_err(to_vec(*be, g), ref);
  std::printf("silu_mul: rel_err %.3g\n", err);
  EXPECT_LE(err, kBf16Bound);
}

TEST_F(ElementwiseTest, CastF32IsExactForBf16) {
  std::vector<float> x = random_bf16(3 * 1280, 61, -100.f, 100.f);
  Tensor y = be->empty({3, 1280}, DType::kF32);
  be->cast_f32(to_dev(*be, x, {3, 1280}, DType::kBF16), y);
  EXPECT_EQ(to_vec(*be, y), x);
}

TEST_F(ElementwiseTest, ConcatCols) {
  const int64_t M = 5, Ca = 3, Cb = 7;
  std::vector<float> a = random_bf16(M * Ca, 71), b = random_bf16(M * Cb, 72);
  Tensor y = be->empty({M, Ca + Cb}, DType::kBF16);
  be->concat_cols(to_dev(*be, a, {M, Ca}, DType::kBF16), to_dev(*be, b, {M, Cb}, DType::kBF16), y);
  std::vector<float> got = to_vec(*be, y);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t c = 0; c < Ca + Cb; ++c)
      EXPECT_EQ(got[m * (Ca + Cb) + c], c < Ca ? a[m * Ca + c] : b[m * Cb + c - Ca]) << m << "," << c;
}

TEST_F(ElementwiseTest, UploadDownloadRoundTrip) {
  std::vector<float> v = {1.f, -2.5f, 3.14159f, 1e-3f, 65504.f};
  Tensor d = be->upload_f32(Tensor::from_f32(v, {5}));
  EXPECT_EQ(d.dtype(), DType::kBF16);
  EXPECT_EQ(d.device(), Device::kCUDA);
  std::vector<float> got = to_vec(*be, d);
  for (size_t i = 0; i < v.size(); ++i) EXPECT_EQ(got[i], round_to_bf16(v[i]));
  Tensor i32 = Tensor::empty({3}, DType::kI32);
  for (int i = 0; i < 3; ++i) i32.data<int32_t>()[i] = 7 - i * 100;
  Tensor back = be->to_host(be->to_device(i32));
  for (int i = 0; i < 3; ++i) EXPECT_EQ(back.data<int32_t>()[i], 7 - i * 100);
}

}  // namespace
}  // namespace folio::gpu_test
