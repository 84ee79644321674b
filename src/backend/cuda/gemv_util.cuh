// Device helpers of the warp-per-output-column products (gemv.cu, moe_small.cu, norm_route.cu):
// a weight row is streamed in 16-byte chunks (8 bf16), lane-strided, several chunks in flight
// per lane before the first is used, with fp32 accumulation and a warp sum at the end.
#pragma once
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

constexpr int kGemvChunksInFlight = 4;

// acc += x · w over 8 bf16 pairs.
__device__ __forceinline__ void fma8(float& acc, const uint4& x, const uint4& w) {
  const __nv_bfloat162* xp = reinterpret_cast<const __nv_bfloat162*>(&x);
  const __nv_bfloat162* wp = reinterpret_cast<const __nv_bfloat162*>(&w);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    const float2 xf = __bfloat1622float2(xp[i]), wf = __bfloat1622float2(wp[i]);
    acc = fmaf(xf.x, wf.x, acc);
    acc = fmaf(xf.y, wf.y, acc);
  }
}

// This lane's partial dot products of weight row `wr` (chunks 16-byte chunks) with M rows of
// x, where x_chunk(r, c) returns chunk c of row r. The caller warp-sums acc (or scales it first:
// the sum is linear).
template <int M, class XChunk>
__device__ __forceinline__ void lane_dots(const uint4* __restrict__ wr, int chunks, int lane, XChunk x_chunk,
                                          float (&acc)[M]) {
  for (int c0 = lane; c0 < chunks; c0 += 32 * kGemvChunksInFlight) {
    uint4 wv[kGemvChunksInFlight];
#pragma unroll
    for (int u = 0; u < kGemvChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      wv[u] = c < chunks ? __ldg(wr + c) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kGemvChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      if (c >= chunks) break;
#pragma unroll
      for (int r = 0; r < M; ++r) fma8(acc[r], x_chunk(r, c), wv[u]);
    }
  }
}

// This lane's partial dot products of two weight rows (a and b) with one row of x, every chunk
// of both rows in flight together (the gate and up rows of a SwiGLU expert).
template <class XChunk>
__device__ __forceinline__ void lane_dots_pair(const uint4* __restrict__ a, const uint4* __restrict__ b, int chunks,
                                               int lane, XChunk x_chunk, float& acc_a, float& acc_b) {
  for (int c0 = lane; c0 < chunks; c0 += 32 * kGemvChunksInFlight) {
    uint4 av[kGemvChunksInFlight], bv[kGemvChunksInFlight];
#pragma unroll
    for (int u = 0; u < kGemvChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      av[u] = c < chunks ? __ldg(a + c) : make_uint4(0, 0, 0, 0);
      bv[u] = c < chunks ? __ldg(b + c) : make_uint4(0, 0, 0, 0);
    }
#pragma unroll
    for (int u = 0; u < kGemvChunksInFlight; ++u) {
      const int c = c0 + u * 32;
      if (c >= chunks) break;
      const uint4 xv = x_chunk(c);
      fma8(acc_a, xv, av[u]);
      fma8(acc_b, xv, bv[u]);
    }
  }
}

// 1 / rms of row xr[0..K) plus eps, computed by the whole block (every thread gets it). With
// the block size norm.cu uses for K (256 threads from K = 1024), the sum is the same as
// rms_norm's, so a fused kernel's normalised rows equal rms_norm's bit for bit.
template <class X>
__device__ __forceinline__ float block_rms_inv(const X* __restrict__ xr, int K, float eps, float* scratch) {
  float ss = 0.f;
  for (int i = threadIdx.x; i < K; i += blockDim.x) {
    const float v = to_f32(xr[i]);
    ss += v * v;
  }
  return rsqrtf(block_sum(ss, scratch) / static_cast<float>(K) + eps);
}

}  // namespace folio::cuda
