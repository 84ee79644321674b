// linear for a few rows (decode steps of small batches): y[r] = x[r]·Wᵀ (+ bias) for M <= 8.
// cuBLASLt's tiles are built for many rows; at M = 1..8 its kernels take several microseconds
// for a 1280 x 1280 weight that streams in about one. Here one warp computes one output column
// for all rows: it reads the weight row once in 16-byte pieces (8 of them in flight per lane
// before the first use) and the rows of x from L1/L2, fp32 accumulation, then a warp sum.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {
namespace {

constexpr int kMaxRows = 8, kWarps = 4, kChunksInFlight = 4;

__device__ __forceinline__ void fma8(float& acc, const uint4& a, const uint4& b) {
  const __nv_bfloat162* x = reinterpret_cast<const __nv_bfloat162*>(&a);
  const __nv_bfloat162* w = reinterpret_cast<const __nv_bfloat162*>(&b);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 xf = __bfloat1622float2(x[i]), wf = __bfloat1622float2(w[i]);
    acc = fmaf(xf.x, wf.x, acc);
    acc = fmaf(xf.y, wf.y, acc);
  }
}

template <int M, class Y>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(const bf16* __restrict__ x, const bf16* __restrict__ w,
                                                            const void* bias, int bdt, Y* __restrict__ y, int N, int K) {
  const int n = blockIdx.x * kWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (n >= N) return;
  const uint4* wr = reinterpret_cast<const uint4*>(w + int64_t(n) * K);
  const int chunks = K / 8;
  float acc[M];
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = 0.f;
  for (int c0 = lane; c0 < chunks; c0 += 32 * kChunksInFlight) {
    uint4 wv[kChunksInFlight];
#pragma unroll
    for (int u = 0; u < kChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      wv[u] = c < chunks ? __ldg(wr + c) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      if (c >= chunks) break;
#pragma unroll
      for (int r = 0; r < M; ++r) fma8(acc[r], __ldg(reinterpret_cast<const uint4*>(x + int64_t(r) * K) + c), wv[u]);
    }
  }
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = warp_sum(acc[r]);
  if (lane == 0) {
    const float b = bias ? load_any(bias, bdt, n) : 0.f;
#pragma unroll
    for (int r = 0; r < M; ++r) y[int64_t(r) * N + n] = from_f32<Y>(acc[r] + b);
  }
}

template <class Y>
void launch_rows(CudaContext& ctx, int M, const bf16* x, const bf16* w, const void* bias, int bdt, Y* y, int N, int K) {
  const dim3 grid((N + kWarps - 1) / kWarps), block(kWarps * 32);
  switch (M) {
#define FOLIO_GEMV_CASE(R) \
  case R: gemv_kernel<R, Y><<<grid, block, 0, ctx.stream()>>>(x, w, bias, bdt, y, N, K); break;
    FOLIO_GEMV_CASE(1) FOLIO_GEMV_CASE(2) FOLIO_GEMV_CASE(3) FOLIO_GEMV_CASE(4)
    FOLIO_GEMV_CASE(5) FOLIO_GEMV_CASE(6) FOLIO_GEMV_CASE(7) FOLIO_GEMV_CASE(8)
#undef FOLIO_GEMV_CASE
  }
}

}  // namespace

bool linear_small_rows(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const int64_t K = w.dim(1), N = w.dim(0), M = x.numel() / K;
  const bool fits = M >= 1 && M <= kMaxRows && K % 8 == 0 && x.dtype() == DType::kBF16 && w.dtype() == DType::kBF16 &&
                    (y.dtype() == DType::kBF16 || y.dtype() == DType::kF32) && pointer_alignment(x.raw()) >= 16 &&
                    pointer_alignment(w.raw()) >= 16 && N < (1LL << 31);
  if (!fits) return false;
  const int bdt = bias ? float_dtype_code(bias->dtype(), "linear", "bias") : 0;
  const void* bp = bias ? bias->raw() : nullptr;
  if (y.dtype() == DType::kBF16)
    launch_rows(ctx, int(M), x.data<bf16>(), w.data<bf16>(), bp, bdt, y.data<bf16>(), int(N), int(K));
  else
    launch_rows(ctx, int(M), x.data<bf16>(), w.data<bf16>(), bp, bdt, y.data<float>(), int(N), int(K));
  check_launch("linear", describe("x", x) + ", " + describe("w", w));
  return true;
}

}  // namespace folio::cuda
