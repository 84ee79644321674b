// layer_norm and rms_norm: one block per row, statistics in fp32 with a two-pass mean/variance
// (the row is re-read from L1/L2, which is cheaper than losing precision on large means).
// y may alias x: every element is read before it is written by the same thread. x and y may
// differ in dtype (an fp32 residual stream normalised into bf16 activations).
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

template <class T, class Y>
__global__ void norm_kernel(const T* x, Y* y, const void* w, int wdt, const void* b, int bdt, int64_t D, float eps,
                            bool rms) {
  __shared__ float scratch[32];
  const T* xr = x + blockIdx.x * D;
  Y* yr = y + blockIdx.x * D;
  float mean = 0.f;
  if (!rms) {
    float s = 0.f;
    for (int64_t i = threadIdx.x; i < D; i += blockDim.x) s += to_f32(xr[i]);
    mean = block_sum(s, scratch) / static_cast<float>(D);
  }
  float ss = 0.f;
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    const float d = to_f32(xr[i]) - mean;
    ss += d * d;
  }
  const float inv = rsqrtf(block_sum(ss, scratch) / static_cast<float>(D) + eps);
  for (int64_t i = threadIdx.x; i < D; i += blockDim.x) {
    float v = (to_f32(xr[i]) - mean) * inv * load_any(w, wdt, i);
    if (b) v += load_any(b, bdt, i);
    yr[i] = from_f32<Y>(v);
  }
}

void run_norm(CudaContext& ctx, const char* op, const Tensor& x, const Tensor& w, const Tensor* b, float eps,
              Tensor& y, bool rms) {
  require_device(x, op, "x");
  require_device(w, op, "w");
  require_device(y, op, "y");
  if (b) require_device(*b, op, "b");
  const std::string shapes = describe("x", x) + ", " + describe("w", w) + ", " + describe("y", y);
  require(x.ndim() >= 1 && x.shape() == y.shape(), op, "x and y differ in shape: " + shapes);
  const int64_t D = x.dim(-1);
  require(w.numel() == D && (!b || b->numel() == D), op, "weight/bias must have D elements: " + shapes);
  const int64_t rows = D ? x.numel() / D : 0;
  if (rows == 0) return;
  require(rows < (1LL << 31), op, "too many rows: " + shapes);
  const int wdt = float_dtype_code(w.dtype(), op, "w");
  const int bdt = b ? float_dtype_code(b->dtype(), op, "b") : 0;
  const int threads = D >= 1024 ? 256 : 128;
  dispatch_act(x, op, "x", [&](auto xtag) {
    dispatch_act(y, op, "y", [&](auto ytag) {
      using T = decltype(xtag);
      using Y = decltype(ytag);
      norm_kernel<T, Y><<<static_cast<unsigned>(rows), threads, 0, ctx.stream()>>>(
          x.data<T>(), y.data<Y>(), w.raw(), wdt, b ? b->raw() : nullptr, bdt, D, eps, rms);
    });
  });
  check_launch(op, shapes);
}

}  // namespace

void layer_norm(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) {
  run_norm(ctx, "layer_norm", x, w, &b, eps, y, false);
}

void rms_norm(CudaContext& ctx, const Tensor& x, const Tensor& w, float eps, Tensor& y) {
  run_norm(ctx, "rms_norm", x, w, nullptr, eps, y, true);
}

}  // namespace folio::cuda
