#include "backend/cpu/gemm.h"

#include <dlfcn.h>

#include <algorithm>
#include <cstdlib>
#include <mutex>
#include <vector>

namespace folio::cpu {

namespace {

// OpenBLAS is loaded at first use rather than linked: its DYNAMIC_ARCH probe runs in the
// library's constructor and, under some hypervisors, misreads an AVX-512 CPU as "Prescott"
// (measured here: 25 GFLOP/s instead of 130 per core). Loading it ourselves lets us name the
// kernel family from the CPU features first (OPENBLAS_CORETYPE, unless the user set it).
// Without OpenBLAS the blocked loop below is used (the GPU machine may not have it).
// When another library (OpenCV) already loaded OpenBLAS, its probe has run: the `folio`
// binary then re-executes itself once with OPENBLAS_CORETYPE set (src/main.cpp).
enum CblasOrder { kRowMajor = 101 };
enum CblasTranspose { kNoTrans = 111, kTrans = 112 };
using SgemmFn = void (*)(int, int, int, int, int, int, float, const float*, int, const float*, int, float, float*, int);
using SetThreadsFn = void (*)(int);

struct Blas {
  SgemmFn sgemm = nullptr;
};

const Blas& blas() {
  static Blas b;
  static std::once_flag once;
  std::call_once(once, [] {
    if (const char* core = preferred_blas_coretype(); *core) setenv("OPENBLAS_CORETYPE", core, 0);
    for (const char* name : {"libopenblas.so.0", "libopenblas.so", "libblas.so.3"}) {
      void* h = dlopen(name, RTLD_NOW | RTLD_LOCAL);
      if (!h) continue;
      auto fn = reinterpret_cast<SgemmFn>(dlsym(h, "cblas_sgemm"));
      if (!fn) continue;
      // Parallelism comes from our own pool; BLAS threads would oversubscribe the cores.
      if (auto set = reinterpret_cast<SetThreadsFn>(dlsym(h, "openblas_set_num_threads"))) set(1);
      b.sgemm = fn;
      break;
    }
  });
  return b;
}

void sgemm_loops(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda,
                 const float* B, int64_t ldb, float beta, float* C, int64_t ldc) {
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
}

}  // namespace

void init_blas() { blas(); }

const char* preferred_blas_coretype() {
  if (std::getenv("OPENBLAS_CORETYPE")) return "";
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512dq"))
    return "SkylakeX";
  if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return "Haswell";
  return "";
}

bool have_blas() { return blas().sgemm != nullptr; }

void sgemm(bool trans_b, int64_t M, int64_t N, int64_t K, float alpha, const float* A, int64_t lda, const float* B,
           int64_t ldb, float beta, float* C, int64_t ldc) {
  if (SgemmFn fn = blas().sgemm) {
    fn(kRowMajor, kNoTrans, trans_b ? kTrans : kNoTrans, static_cast<int>(M), static_cast<int>(N),
       static_cast<int>(K), alpha, A, static_cast<int>(lda), B, static_cast<int>(ldb), beta, C, static_cast<int>(ldc));
    return;
  }
  sgemm_loops(trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}

}  // namespace folio::cpu
