// Row-major single-precision GEMM: C[M,N] = alpha * A[M,K] · op(B) + beta * C, where op(B) is
// B[N,K]ᵀ (trans_b) or B[K,N]. OpenBLAS (loaded at run time, see gemm.cpp) where the machine
// has it; otherwise a cache-blocked loop the compiler vectorises.
#pragma once
#include <cstdint>

namespace folio::cpu {

void sgemm(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc);

// Loads BLAS once (single-threaded: parallelism comes from our own pool).
void init_blas();
bool have_blas();

// The OPENBLAS_CORETYPE a process should run with on this CPU ("SkylakeX", "Haswell"), or
// empty when it is already set or no better kernel exists. See gemm.cpp for why.
const char* preferred_blas_coretype();

}  // namespace folio::cpu
