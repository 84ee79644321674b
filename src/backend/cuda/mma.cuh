// Tensor-core building blocks shared by the hand-written kernels: the m16n8k16 mma over bf16
// (or, for the vision encoder's attention, f16) with fp32 accumulation and 32-bit fragment loads.
//
// Fragment layout (PTX ISA, mma.m16n8k16 .row.col), g = lane / 4, t = lane % 4:
//   A 16x16 row-major: a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
//   B 16x8 given as rows n of 16 k (k contiguous): b0 = B[n=g][k=2t..2t+1], b1 = B[n=g][k=2t+8..]
//   C 16x8: c0,c1 = C[g][2t, 2t+1], c2,c3 = C[g+8][2t, 2t+1]
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

// T: the operands' type, bf16 or f16 (both 2 per 32-bit register).
template <class T = __nv_bfloat16>
__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
  if constexpr (std::is_same_v<T, __half>) {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  } else {
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
        "{%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  }
}

// Scales accumulator tiles row by row: c0, c1 (row g) by r[0], c2, c3 (row g + 8) by r[1].
template <int NT>
__device__ __forceinline__ void scale_rows(float (&c)[NT][4], const float (&r)[2]) {
#pragma unroll
  for (int i = 0; i < NT; ++i) {
    c[i][0] *= r[0];
    c[i][1] *= r[0];
    c[i][2] *= r[1];
    c[i][3] *= r[1];
  }
}

// The A fragment (16 x 16, of T) made of accumulator n-tiles 2kc and 2kc + 1 (16 x 8 each): how
// flash attention feeds its probabilities P into P·V without a trip through shared memory.
template <class T = __nv_bfloat16, int NT>
__device__ __forceinline__ void accumulators_to_a(const float (&c)[NT][4], int kc, uint32_t a[4]) {
  a[0] = pack2<T>(c[2 * kc][0], c[2 * kc][1]);
  a[1] = pack2<T>(c[2 * kc][2], c[2 * kc][3]);
  a[2] = pack2<T>(c[2 * kc + 1][0], c[2 * kc + 1][1]);
  a[3] = pack2<T>(c[2 * kc + 1][2], c[2 * kc + 1][3]);
}

// ldmatrix: four 8x8 bf16 matrices from shared memory, lanes 8i..8i+7 giving the row addresses
// of matrix i; register i holds matrix i in the mma fragment layout (.trans: transposed).
__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void ldmatrix_x4(uint32_t r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}
__device__ __forceinline__ void ldmatrix_x4_trans(uint32_t r[4], const void* p) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(smem_addr(p)));
}

// Shared-memory layout, in bytes. Region A holds Q until its fragments are in registers, then
// the row table; region B the column table; region C two stages of K and V tiles.

__device__ __forceinline__ uint32_t ld32(const __nv_bfloat16* p) { return *reinterpret_cast<const uint32_t*>(p); }
__device__ __forceinline__ uint32_t ld32(const __half* p) { return *reinterpret_cast<const uint32_t*>(p); }

}  // namespace folio::cuda
