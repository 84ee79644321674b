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

// R rows of x against NW consecutive int8 weight rows (row stride ws; scales applied by the
// caller): out[n * R + r]. Each (x row, weight row) pair has its own accumulator, summed over k
// in the same order whatever R and NW are, so every result is the same float.
template <int R, int NW>
void rows_dot_i8(const float* x, int64_t K, const int8_t* w, float* out, int64_t ws) {
  __m512 acc[NW][R];
  for (int n = 0; n < NW; ++n)
    for (int r = 0; r < R; ++r) acc[n][r] = _mm512_setzero_ps();
  int64_t k = 0;
  for (; k + 16 <= K; k += 16) {
    __m512 wf[NW];
    for (int n = 0; n < NW; ++n) {
      if (k % 64 == 0) prefetch_ahead(w + n * ws + k);  // 16 int8 weights are a quarter line
      wf[n] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_loadu_si128(reinterpret_cast<const __m128i*>(w + n * ws + k))));
    }
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_loadu_ps(x + r * K + k);
      for (int n = 0; n < NW; ++n) acc[n][r] = _mm512_fmadd_ps(wf[n], xv, acc[n][r]);
    }
  }
  if (k < K) {
    const __mmask16 m = static_cast<__mmask16>((1u << (K - k)) - 1);
    __m512 wf[NW];
    for (int n = 0; n < NW; ++n) wf[n] = _mm512_cvtepi32_ps(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(m, w + n * ws + k)));
    for (int r = 0; r < R; ++r) {
      const __m512 xv = _mm512_maskz_loadu_ps(m, x + r * K + k);
      for (int n = 0; n < NW; ++n) acc[n][r] = _mm512_fmadd_ps(wf[n], xv, acc[n][r]);
    }
  }
  for (int n = 0; n < NW; ++n)
    for (int r = 0; r < R; ++r) out[n * R + r] = _mm512_reduce_add_ps(acc[n][r]);
}

// Rows [0, R) of x against weight rows [n_begin, n_end), NW at a time (the last ones one at a
// time): `Dot<R, NW>::run(x, K, row, row_stride, out)` computes the raw dot products
// out[n * R + r], and `scale(row)` is the row's dequantisation factor.
template <int R, int NW, template <int, int> class Dot, class W, class Scale>
void row_block(const float* x, int64_t K, const W* w, int64_t row_stride, int64_t n_begin, int64_t n_end,
               const float* bias, float* y, int64_t N, Scale scale) {
  float tmp[R * NW];
  for (int64_t n = n_begin; n < n_end;) {
    const W* wrow = w + n * row_stride;
    const int nw = n + NW <= n_end ? NW : 1;
    if (nw == NW) Dot<R, NW>::run(x, K, wrow, row_stride, tmp);
    else Dot<R, 1>::run(x, K, wrow, row_stride, tmp);
    for (int j = 0; j < nw; ++j) {
      const float s = scale(wrow + j * row_stride), b = bias ? bias[n + j] : 0.0f;
      for (int r = 0; r < R; ++r) y[r * N + n + j] = tmp[j * R + r] * s + b;
    }
    n += nw;
  }
}

// The few-row product: up to 4 rows of x per weight row, so each weight row is read once per
// 4 rows.
template <template <int, int> class Dot, class W, class Scale>
void few_rows_product(const float* x, int64_t M, int64_t K, const W* w, int64_t row_stride, int64_t n_begin,
                      int64_t n_end, const float* bias, float* y, int64_t N, Scale scale) {
  for (int64_t m0 = 0; m0 < M; m0 += 4) {
    const float* xr = x + m0 * K;
    float* yr = y + m0 * N;
    switch (M - m0 < 4 ? M - m0 : 4) {
      case 4: row_block<4, 1, Dot>(xr, K, w, row_stride, n_begin, n_end, bias, yr, N, scale); break;
      case 3: row_block<3, 1, Dot>(xr, K, w, row_stride, n_begin, n_end, bias, yr, N, scale); break;
      case 2: row_block<2, 1, Dot>(xr, K, w, row_stride, n_begin, n_end, bias, yr, N, scale); break;
      default: row_block<1, 1, Dot>(xr, K, w, row_stride, n_begin, n_end, bias, yr, N, scale); break;
    }
  }
}

template <int R, int NW>
struct DotBf16 {
  static_assert(NW == 1, "one bf16 weight row at a time");
  static void run(const float* x, int64_t K, const uint16_t* w, int64_t, float* out) { rows_dot<R>(x, K, w, out); }
};
template <int R, int NW>
struct DotI8 {
  static void run(const float* x, int64_t K, const int8_t* w, int64_t ws, float* out) { rows_dot_i8<R, NW>(x, K, w, out, ws); }
};

bool have_avx512() { return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw"); }

}  // namespace

bool gemv_int8_avx512(const float* x, int64_t M, int64_t K, const int8_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N) {
  if (!have_avx512()) return false;
  // Row layout (weights/quantize.h): K bytes, then the row's f32 scale.
  const int64_t ws = K + 4;
  auto scale = [K](const int8_t* row) {
    float s;
    std::memcpy(&s, row + K, 4);
    return s;
  };
  // Blocks of 8 rows of x against pairs of weight rows (16 accumulators; each weight vector,
  // converted from int8 once, feeds 8 products): the prefill's expert products (~27 rows
  // each) read the int8 weight directly instead of converting it to f32 for OpenBLAS.
  int64_t m0 = 0;
  for (; M - m0 >= 8; m0 += 8) row_block<8, 2, DotI8>(x + m0 * K, K, w, ws, n_begin, n_end, bias, y + m0 * N, N, scale);
  if (m0 < M) few_rows_product<DotI8>(x + m0 * K, M - m0, K, w, ws, n_begin, n_end, bias, y + m0 * N, N, scale);
  return true;
}

bool gemv_bf16_avx512(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N) {
  if (!have_avx512()) return false;
  few_rows_product<DotBf16>(x, M, K, w, K, n_begin, n_end, bias, y, N, [](const uint16_t*) { return 1.0f; });
  return true;
}

}  // namespace folio::cpu
