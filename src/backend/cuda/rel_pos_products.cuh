// SAM's decomposed relative-position terms on tensor cores, shared by the attention kernels.
#pragma once
#include "backend/cuda/kernel_util.cuh"
#include "backend/cuda/mma.cuh"

namespace folio::cuda {

// For the 16 query rows of a warp (A fragments qf), the products q · R[t] with every row t of a
// [2*gdim - 1, D] table (any float dtype, rounded to T, the queries' type, for the mma), handed to
// use(ri, c, value): ri 0/1 = the fragment's row g / g + 8, c = qpos[ri] + gdim - 1 - t the grid
// coordinate (row or column) of the keys that the product biases, only where c is in [0, gdim)
// and the row is valid.
template <int D, class T, class Use>
__device__ __forceinline__ void rel_pos_products(const uint32_t (&qf)[D / 16][4], const void* table, int dt, int gdim,
                                                 const int (&qpos)[2], const bool (&valid)[2], int lane, Use&& use) {
  const int g = lane >> 2, tig = lane & 3, ntab = 2 * gdim - 1;
  for (int t0 = 0; t0 < ntab; t0 += 8) {
    float acc[4] = {0.f, 0.f, 0.f, 0.f};
    const int trow = t0 + g;
#pragma unroll
    for (int kc = 0; kc < D / 16; ++kc) {
      uint32_t b0 = 0, b1 = 0;
      if (trow < ntab) {
        const int64_t e = int64_t(trow) * D + kc * 16 + tig * 2;
        b0 = pack2<T>(load_any(table, dt, e), load_any(table, dt, e + 1));
        b1 = pack2<T>(load_any(table, dt, e + 8), load_any(table, dt, e + 9));
      }
      mma_16816<T>(acc, qf[kc], b0, b1);
    }
#pragma unroll
    for (int e = 0; e < 4; ++e) {
      const int ri = e >> 1, t = t0 + tig * 2 + (e & 1);
      const int c = qpos[ri] + gdim - 1 - t;
      if (valid[ri] && t < ntab && c >= 0 && c < gdim) use(ri, c, acc[e]);
    }
  }
}

}  // namespace folio::cuda
