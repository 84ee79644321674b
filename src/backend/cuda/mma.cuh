// Tensor-core building blocks shared by the hand-written kernels: the bf16 m16n8k16 mma with
// fp32 accumulation and 32-bit fragment loads.
//
// Fragment layout (PTX ISA, mma.m16n8k16 .row.col), g = lane / 4, t = lane % 4:
//   A 16x16 row-major: a0 = A[g][2t..2t+1], a1 = A[g+8][2t..], a2 = A[g][2t+8..], a3 = A[g+8][2t+8..]
//   B 16x8 given as rows n of 16 k (k contiguous): b0 = B[n=g][k=2t..2t+1], b1 = B[n=g][k=2t+8..]
//   C 16x8: c0,c1 = C[g][2t, 2t+1], c2,c3 = C[g+8][2t, 2t+1]
#pragma once
#include <cuda_bf16.h>

#include <cstdint>

namespace folio::cuda {

__device__ __forceinline__ void mma_16816(float c[4], const uint32_t a[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

__device__ __forceinline__ uint32_t pack_bf16(float lo, float hi) {
  __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
  return *reinterpret_cast<uint32_t*>(&v);
}

__device__ __forceinline__ uint32_t ld32(const __nv_bfloat16* p) { return *reinterpret_cast<const uint32_t*>(p); }

}  // namespace folio::cuda
