// The end of a flash-attention block, shared by the attention kernels.
#pragma once
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

// Completes each row's softmax denominator l over the 4 lanes of its quad, then writes the
// warp's two rows per lane (fragment rows g and g + 8: qrow) of O / l as T into out (row
// stride `stride` elements); rows at or past n are padding and not written.
template <int D, class T>
__device__ __forceinline__ void store_attention_rows(const float (&o)[D / 8][4], float (&l)[2], T* out,
                                                     int64_t stride, const int (&qrow)[2], int n, int tig) {
#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    l[ri] += __shfl_xor_sync(0xffffffffu, l[ri], 1);
    l[ri] += __shfl_xor_sync(0xffffffffu, l[ri], 2);
  }
#pragma unroll
  for (int ri = 0; ri < 2; ++ri) {
    if (qrow[ri] >= n) continue;
    const float inv = l[ri] > 0.f ? 1.f / l[ri] : 0.f;
    T* orow = out + int64_t(qrow[ri]) * stride;
#pragma unroll
    for (int dt = 0; dt < D / 8; ++dt)
      *reinterpret_cast<uint32_t*>(orow + dt * 8 + tig * 2) = pack2<T>(o[dt][2 * ri] * inv, o[dt][2 * ri + 1] * inv);
  }
}

}  // namespace folio::cuda
