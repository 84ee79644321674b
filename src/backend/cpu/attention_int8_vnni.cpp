// The softmax step of the int8 attention (attention_int8.cpp), in AVX-512: one query row's
// logits become 16-bit probability codes, split into two byte planes so that P·V runs as two
// u8 x s8 products (vpdpbusd). Compiled with the VNNI flags (src/CMakeLists.txt) and called
// only after have_avx512_vnni().
#include <immintrin.h>

#include <cmath>

#include "backend/cpu/attention_int8.h"

namespace folio::cpu {

namespace {

// exp(x) for 16 lanes: the formula of vec_math.h's exp8 (Cody-Waite reduction, degree-6
// polynomial, relative error < 2e-7), in AVX-512.
inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(-87.3f)), _mm512_set1_ps(88.7f));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(1.44269504088896341f)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(0.693359375f), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(2.12194440e-4f), r);
  __m512 p = _mm512_set1_ps(1.9875691500e-4f);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.3981999507e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(8.3334519073e-3f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(4.1665795894e-2f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(1.6666665459e-1f));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(5.0000001201e-1f));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

inline __mmask16 first_n(int64_t n) { return n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1); }

}  // namespace

int64_t softmax_codes_vnni(float* s, int64_t n, int64_t visible, const float* rel_rows, const float* rel_cols,
                           int64_t grid_w, uint8_t* hi, uint8_t* lo, int64_t n_pad) {
  if (rel_rows) {
    // Key j = ky * grid_w + kx gets rel_rows[ky] + rel_cols[kx].
    for (int64_t y0 = 0; y0 < n; y0 += grid_w) {
      const __m512 rh = _mm512_set1_ps(rel_rows[y0 / grid_w]);
      for (int64_t kx = 0; kx < grid_w; kx += 16) {
        const __mmask16 m = first_n(grid_w - kx);
        const __m512 add = _mm512_add_ps(rh, _mm512_maskz_loadu_ps(m, rel_cols + kx));
        _mm512_mask_storeu_ps(s + y0 + kx, m, _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + y0 + kx), add));
      }
    }
  }
  __m512 mx = _mm512_set1_ps(-INFINITY);
  for (int64_t j = 0; j < visible; j += 16)
  {
    const __mmask16 m = first_n(visible - j);
    mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
  }
  const __m512 top = _mm512_set1_ps(_mm512_reduce_max_ps(mx));
  // code = round(65535 * exp(s - max)): the largest key gets 65535, a key 11 nats below it
  // still gets a code of 1; hi/lo bytes of the code feed the two P·V passes.
  const __m512 full = _mm512_set1_ps(65535.0f);
  __m512i sum = _mm512_setzero_si512();
  for (int64_t j = 0; j < n_pad; j += 16) {
    const __mmask16 m = first_n(visible - j > 0 ? visible - j : 0);
    const __m512 p = exp16(_mm512_sub_ps(_mm512_maskz_loadu_ps(m, s + j), top));
    const __m512i code = _mm512_maskz_cvtps_epi32(m, _mm512_mul_ps(p, full));
    sum = _mm512_add_epi32(sum, code);
    const __mmask16 store = first_n(n_pad - j);
    _mm512_mask_cvtepi32_storeu_epi8(hi + j, store, _mm512_srli_epi32(code, 8));
    _mm512_mask_cvtepi32_storeu_epi8(lo + j, store, _mm512_and_si512(code, _mm512_set1_epi32(255)));
  }
  // At most 65535 per key and 16 lanes: 64-bit reduction so long rows cannot overflow.
  const __m512i lo_half = _mm512_cvtepu32_epi64(_mm512_castsi512_si256(sum));
  const __m512i hi_half = _mm512_cvtepu32_epi64(_mm512_extracti64x4_epi64(sum, 1));
  return _mm512_reduce_add_epi64(_mm512_add_epi64(lo_half, hi_half));
}

}  // namespace folio::cpu
