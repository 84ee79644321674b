// layer_norm and rms_norm, statistics in fp32 with a two-pass mean/variance (precision on large
// means): rows of a multiple of 128 values (up to 2048) one warp each from registers, other rows
// one block each (re-read from L1/L2).
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

// Rows of D = 128 * nv (nv <= NV) values, one warp per row: lane l holds 4-value chunks
// l, l + 32, ... in registers, so the row is read from memory once and there is no block-wide
// reduction (the encoders' [tokens, 768/1024] LayerNorms are thousands of short rows).
template <class T>
__device__ __forceinline__ void load4(const T* p, float v[4]) {
  if constexpr (sizeof(T) == 4) {
    const float4 f = *reinterpret_cast<const float4*>(p);
    v[0] = f.x, v[1] = f.y, v[2] = f.z, v[3] = f.w;
  } else {
    const uint2 u = *reinterpret_cast<const uint2*>(p);
    const float2 a = unpack2<T>(u.x), c = unpack2<T>(u.y);
    v[0] = a.x, v[1] = a.y, v[2] = c.x, v[3] = c.y;
  }
}
template <class Y>
__device__ __forceinline__ void store4(Y* p, const float v[4]) {
  if constexpr (sizeof(Y) == 4) {
    *reinterpret_cast<float4*>(p) = make_float4(v[0], v[1], v[2], v[3]);
  } else {
    *reinterpret_cast<uint2*>(p) = make_uint2(pack2<Y>(v[0], v[1]), pack2<Y>(v[2], v[3]));
  }
}

template <class T, class Y, int NV>
__global__ void norm_warp_kernel(const T* x, Y* y, const void* w, int wdt, const void* b, int bdt, int64_t rows, int nv,
                                 float eps, bool rms) {
  const int lane = threadIdx.x & 31;
  const int64_t r = blockIdx.x * int64_t(blockDim.x / 32) + (threadIdx.x >> 5);
  if (r >= rows) return;
  const int64_t D = int64_t(nv) * 128;
  const T* xr = x + r * D;
  Y* yr = y + r * D;
  float v[NV][4];
  float s = 0.f;
#pragma unroll
  for (int j = 0; j < NV; ++j)
    if (j < nv) {
      load4(xr + (j * 32 + lane) * 4, v[j]);
      s += v[j][0] + v[j][1] + v[j][2] + v[j][3];
    }
  const float mean = rms ? 0.f : warp_sum(s) / float(D);
  float ss = 0.f;
#pragma unroll
  for (int j = 0; j < NV; ++j)
    if (j < nv)
#pragma unroll
      for (int e = 0; e < 4; ++e) ss += (v[j][e] - mean) * (v[j][e] - mean);
  const float inv = rsqrtf(warp_sum(ss) / float(D) + eps);
#pragma unroll
  for (int j = 0; j < NV; ++j)
    if (j < nv) {
      const int i0 = (j * 32 + lane) * 4;
      float o[4];
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        o[e] = (v[j][e] - mean) * inv * load_any(w, wdt, i0 + e);
        if (b) o[e] += load_any(b, bdt, i0 + e);
      }
      store4(yr + i0, o);
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
  const int nv = static_cast<int>(D / 128);
  if (D % 128 == 0 && nv <= 16 && pointer_alignment(x.raw()) >= 16 && pointer_alignment(y.raw()) >= 16) {
    constexpr int kRowsPerBlock = 8;
    const unsigned blocks = static_cast<unsigned>((rows + kRowsPerBlock - 1) / kRowsPerBlock);
    dispatch_act(x, op, "x", [&](auto xtag) {
      dispatch_act(y, op, "y", [&](auto ytag) {
        using T = decltype(xtag);
        using Y = decltype(ytag);
        const void* bp = b ? b->raw() : nullptr;
        if (nv <= 2)
          norm_warp_kernel<T, Y, 2><<<blocks, 32 * kRowsPerBlock, 0, ctx.stream()>>>(x.data<T>(), y.data<Y>(), w.raw(), wdt, bp, bdt, rows, nv, eps, rms);
        else if (nv <= 8)
          norm_warp_kernel<T, Y, 8><<<blocks, 32 * kRowsPerBlock, 0, ctx.stream()>>>(x.data<T>(), y.data<Y>(), w.raw(), wdt, bp, bdt, rows, nv, eps, rms);
        else
          norm_warp_kernel<T, Y, 16><<<blocks, 32 * kRowsPerBlock, 0, ctx.stream()>>>(x.data<T>(), y.data<Y>(), w.raw(), wdt, bp, bdt, rows, nv, eps, rms);
      });
    });
    check_launch(op, shapes);
    return;
  }
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
