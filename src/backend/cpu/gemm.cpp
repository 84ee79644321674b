#include "backend/cpu/gemm.h"

#include <algorithm>
#include <vector>

#ifndef FOLIO_NO_OPENBLAS
#include <cblas.h>
#endif

namespace folio::cpu {

void init_blas() {
#ifndef FOLIO_NO_OPENBLAS
  static const bool once = [] {
    openblas_set_num_threads(1);
    return true;
  }();
  (void)once;
#endif
}

void sgemm(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
#ifndef FOLIO_NO_OPENBLAS
  cblas_sgemm(CblasRowMajor, CblasNoTrans, trans_b ? CblasTrans : CblasNoTrans, static_cast<int>(M),
              static_cast<int>(N), static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta,
              C, static_cast<int>(ldc));
#else
  // Bring B to [K, N] blocks so the inner loop runs over contiguous N for each A element.
  constexpr int64_t kN = 256, kK = 256;
  std::vector<float> bt(kK * kN);
  for (int64_t m = 0; m < M; ++m)
    for (int64_t n = 0; n < N; ++n) C[m * ldc + n] = beta == 0.0f ? 0.0f : beta * C[m * ldc + n];
  for (int64_t n0 = 0; n0 < N; n0 += kN) {
    const int64_t nb = std::min(kN, N - n0);
    for (int64_t k0 = 0; k0 < K; k0 += kK) {
      const int64_t kb = std::min(kK, K - k0);
      for (int64_t k = 0; k < kb; ++k)
        for (int64_t n = 0; n < nb; ++n)
          bt[k * kN + n] = trans_b ? B[(n0 + n) * ldb + k0 + k] : B[(k0 + k) * ldb + n0 + n];
      for (int64_t m = 0; m < M; ++m) {
        float* c = C + m * ldc + n0;
        const float* a = A + m * lda + k0;
        for (int64_t k = 0; k < kb; ++k) {
          const float av = alpha * a[k];
          const float* b = &bt[k * kN];
          for (int64_t n = 0; n < nb; ++n) c[n] += av * b[n];
        }
      }
    }
  }
#endif
}

}  // namespace folio::cpu
