// Row-major single-precision GEMM: C[M,N] = alpha * A[M,K] · op(B) + beta * C, where op(B) is
// B[N,K]ᵀ (trans_b) or B[K,N]. OpenBLAS where the build has it; otherwise a cache-blocked
// loop that the compiler vectorises (the GPU machine may lack OpenBLAS; the CPU backend is
// only a reference there).
#pragma once
#include <cstdint>

namespace folio::cpu {

void sgemm(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// Keeps BLAS single-threaded: parallelism comes from our own pool.
void init_blas();

}  // namespace folio::cpu
