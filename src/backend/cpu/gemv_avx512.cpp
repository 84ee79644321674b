// Compiled with -mavx512f (see src/CMakeLists.txt) and only called after a runtime check.
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/cpu_kernels.h"

namespace folio::cpu {

namespace {

// Weight bytes requested ahead of the ones being read (one prefetch per 64-byte line). The
// hardware prefetchers alone left a single-row product (decoding one stream: one weight row
// at a time, FMA after FMA) at ~5.5 GB/s per core from memory, against ~10.5 GB/s for a plain
// read; 4 KB ahead it reaches 9-10.5 (1 KB: 8-8.7, 2 KB: 9.2-9.7, 8 KB: 8.8-10.2; measured on
// 1,000 MB of 896 x 1280 int8 matrices). Reading several weight rows at once instead was
// slower (3.7 GB/s for 4): interleaved streams are what the prefetchers follow worst.
constexpr int64_t kPrefetchBytes = 4096;

inline void prefetch_ahead(const void* p) {
  _mm_prefetch(static_cast<const char*>(p) + kPrefetchBytes, _MM_HINT_T0);
}

inline __m512 load_bf16x16(const uint16_t* p) {
  __m256i raw = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p));
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

inline __m512 load_bf16_masked(const uint16_t* p, __mmask16 m) {
  __m256i raw = _mm256_maskz_loadu_epi16(m, p);
  return _mm512_castsi512_ps(_mm512_slli_epi32(_mm512_cvtepu16_epi32(raw), 16));
}

// R rows of x (R <= 4) against one weight row.
template <int R>
void rows_dot(const float* x, int64_t K, const uint16_t* wrow, float* out) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    if (k % 32 == 0) prefetch_ahead(wrow + k);  // 16 bf16 weights are half a line
    const __m512 wf = load_bf16x16(wrow + k);
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(wf, _mm512_loadu_ps(x + r * K + k), acc[r]);
  }
  if (k < K) {
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
    const __m512 wf = load_bf16_masked(wrow + k, m);
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(wf, _mm512_maskz_loadu_ps(m, x + r * K + k), acc[r]);
  }
  for (int r = 0; r < R; ++r) out[r] = _mm512_reduce_add_ps(acc[r]);
}

// R rows of x against one int8 weight row (scale applied by the caller).
template <int R>
void rows_dot_i8(const float* x, int64_t K, const int8_t* wrow, float* out) {
  __m512 acc[R];
  for (int r = 0; r < R; ++r) acc[r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    if (k % 64 == 0) prefetch_ahead(wrow + k);  // 16 int8 weights are a quarter line
    const __m128i raw = _mm_loadu_si128(reinterpret_cast<const __m128i*>(wrow + k));
    const __m512 wf = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(raw));
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(wf, _mm512_loadu_ps(x + r * K + k), acc[r]);
  }
  if (k < K) {
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
    const __m512 wf = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, wrow + k)));
    for (int r = 0; r < R; ++r) acc[r] = _mm512_fmadd_ps(wf, _mm512_maskz_loadu_ps(m, x + r * K + k), acc[r]);
  }
  for (int r = 0; r < R; ++r) out[r] = _mm512_reduce_add_ps(acc[r]);
}

// The few-row product around a row kernel: up to 4 rows of x per weight row, so each weight
// row is read once per 4 rows. `Dot<R>::run(x, K, row, out)` computes R raw dot products;
// `scale(row)` is the row's dequantisation factor.
template <template <int> class Dot, class W, class Scale>
void few_rows_product(const float* x, int64_t M, int64_t K, const W* w, int64_t row_stride, int64_t n_begin,
                      int64_t n_end, const float* bias, float* y, int64_t N, Scale scale) {
  float tmp[4];
  for (int64_t m0 = 0; m0 < M; m0 += 4) {
    const int rows = static_cast<int>(M - m0 < 4 ? M - m0 : 4);
    const float* xr = x + m0 * K;
    for (int64_t n = n_begin; n < n_end; ++n) {
      const W* wrow = w + n * row_stride;
      switch (rows) {
        case 4: Dot<4>::run(xr, K, wrow, tmp); break;
        case 3: Dot<3>::run(xr, K, wrow, tmp); break;
        case 2: Dot<2>::run(xr, K, wrow, tmp); break;
        default: Dot<1>::run(xr, K, wrow, tmp); break;
      }
      const float s = scale(wrow), b = bias ? bias[n] : 0.0f;
      for (int r = 0; r < rows; ++r) y[(m0 + r) * N + n] = tmp[r] * s + b;
    }
  }
}

template <int R>
struct DotBf16 {
  static void run(const float* x, int64_t K, const uint16_t* w, float* out) { rows_dot<R>(x, K, w, out); }
};
template <int R>
struct DotI8 {
  static void run(const float* x, int64_t K, const int8_t* w, float* out) { rows_dot_i8<R>(x, K, w, out); }
};

bool have_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }

}  // namespace

bool gemv_int8_avx512(const float* x, int64_t M, int64_t K, const int8_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N) {
  if (!have_avx512()) return false;
  // Row layout (weights/quantize.h): K bytes, then the row's f32 scale.
  few_rows_product<DotI8>(x, M, K, w, K + 4, n_begin, n_end, bias, y, N, [K](const int8_t* row) {
    float scale;
    std::memcpy(&scale, row + K, 4);
    return scale;
  });
  return true;
}

bool gemv_bf16_avx512(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N) {
  if (!have_avx512()) return false;
  few_rows_product<DotBf16>(x, M, K, w, K, n_begin, n_end, bias, y, N, [](const uint16_t*) { return 1.0f; });
  return true;
}

}  // namespace folio::cpu
