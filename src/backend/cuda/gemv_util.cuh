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

}  // namespace folio::cuda
