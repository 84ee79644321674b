// Run-time packing of attention's keys and values for the int8 kernel, in AVX-512: the
// scalar packer of core/packed_int8.cpp (lrint per element) cost as much as the products for
// SAM's 14x14 windows. Same quantisation, same bytes (a unit test compares them).
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/attention_int8.h"
#include "backend/cpu/prefetch_rows.h"
#include "core/packed_int8.h"

namespace folio::cpu {

namespace {

using namespace packed_int8;

constexpr int64_t kRowsAhead = 8;  // source rows prefetched ahead of the one being packed

inline __mmask16 first_n(int64_t n) { return n >= 16 ? __mmask16(0xffff) : static_cast<__mmask16>((1u << n) - 1); }

// x / s as vdivps rounds it, from inv = 1/s (rounded): x * inv is within an ulp of the
// quotient, its remainder x - q0 * s is exact in one FMA, and q0 + remainder * inv then rounds
// to the correctly rounded quotient (Markstein's theorem), in three FMA-unit operations where
// vdivps occupies the divider for ~8 cycles per 16 floats (the packers were bound by it). Not
// for lanes whose s is below kMinReciprocalScale, where 1/s overflows or the remainder is no
// longer exact: those divide (`small`). Checked for every float x in [-127 s, 127 s] at
// 56 random scales from 2^-108 to 2^120 (5.5e10 values): the same codes as the division.
constexpr float kMinReciprocalScale = 0x1p-100f;

inline __m512 quotient(__m512 x, __m512 s, __m512 inv, __mmask16 small) {
  const __m512 q0 = _mm512_mul_ps(x, inv);
  const __m512 q = _mm512_fmadd_ps(_mm512_fnmadd_ps(q0, s, x), inv, q0);
  return small ? _mm512_mask_div_ps(q, small, x, s) : q;
}

}  // namespace

void pack_rows_vnni(const float* src, int64_t rows, int64_t K, int64_t stride, int8_t* out) {
  const int64_t Kp = padded_k(K);
  constexpr int64_t kMaxK = 1024;  // attention's K is the head size (64 here)
  if (Kp > kMaxK) return pack_rows(src, rows, K, stride, out);
  alignas(64) int8_t codes[kGroupRows * kMaxK];
  for (int64_t g = 0; g * kGroupRows < rows; ++g) {
    int8_t* group = out + g * group_bytes(Kp);
    float scales[kGroupRows];
    int32_t sums[kGroupRows];
    for (int64_t r = 0; r < kGroupRows; ++r) {
      const int64_t n = g * kGroupRows + r;
      int8_t* rc = codes + r * Kp;
      std::memset(rc, 0, static_cast<size_t>(Kp));
      scales[r] = 1.0f;
      sums[r] = 0;
      if (n >= rows) continue;
      const float* row = src + n * stride;
      // Rows a few ahead (prefetch_rows.h): attention's heads are 256-byte pieces of 3 KB
      // token rows, which the hardware prefetchers do not follow.
      if (n + kRowsAhead < rows) prefetch_row(row + kRowsAhead * stride, K);
      __m512 amax = _mm512_setzero_ps();
      for (int64_t k = 0; k < K; k += 16)
        amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(first_n(K - k), row + k)));
      const float top = _mm512_reduce_max_ps(amax);
      const float scale = top > 0 ? top / 127.0f : 1.0f;
      const __m512 vs = _mm512_set1_ps(scale), inv = _mm512_set1_ps(1.0f / scale);
      const __mmask16 small = scale < kMinReciprocalScale ? __mmask16(0xffff) : __mmask16(0);
      __m512i sum = _mm512_setzero_si512();
      for (int64_t k = 0; k < K; k += 16) {
        const __mmask16 m = first_n(K - k);
        // x / scale rounded half to even: what lrint does in the scalar packer.
        const __m512i c = _mm512_maskz_cvtps_epi32(m, quotient(_mm512_maskz_loadu_ps(m, row + k), vs, inv, small));
        sum = _mm512_add_epi32(sum, c);
        _mm512_mask_cvtepi32_storeu_epi8(rc + k, m, c);
      }
      scales[r] = scale;
      sums[r] = _mm512_reduce_add_epi32(sum);
    }
    // Row r's 4 codes of step s go to bytes s*64 + r*4.
    for (int64_t s = 0; s < Kp / kKStep; ++s)
      for (int64_t r = 0; r < kGroupRows; ++r) std::memcpy(group + s * 64 + r * 4, codes + r * Kp + s * kKStep, 4);
    std::memcpy(group + scale_offset(Kp), scales, sizeof scales);
    std::memcpy(group + row_sum_offset(Kp), sums, sizeof sums);
  }
}

void pack_cols_vnni(const float* src, int64_t keys, int64_t cols, int64_t stride, int8_t* out) {
  const int64_t Kp = padded_k(keys);
  for (int64_t c0 = 0; c0 < cols; c0 += kGroupRows) {
    int8_t* group = out + (c0 / kGroupRows) * group_bytes(Kp);
    const __mmask16 cm = first_n(cols - c0);
    __m512 amax = _mm512_setzero_ps();
    for (int64_t j = 0; j < keys; ++j) {
      if (j + kRowsAhead < keys) _mm_prefetch(reinterpret_cast<const char*>(src + (j + kRowsAhead) * stride + c0), _MM_HINT_T0);
      amax = _mm512_max_ps(amax, _mm512_abs_ps(_mm512_maskz_loadu_ps(cm, src + j * stride + c0)));
    }
    const __mmask16 nonzero = _mm512_cmp_ps_mask(amax, _mm512_setzero_ps(), _CMP_GT_OQ);
    // amax / 127 as the scalar packer computes it, 1 for an all-zero channel.
    const __m512 scale = _mm512_mask_div_ps(_mm512_set1_ps(1.0f), nonzero, amax, _mm512_set1_ps(127.0f));
    const __m512 inv = _mm512_div_ps(_mm512_set1_ps(1.0f), scale);
    const __mmask16 small = _mm512_cmp_ps_mask(scale, _mm512_set1_ps(kMinReciprocalScale), _CMP_LT_OQ);
    __m512i sum = _mm512_setzero_si512();
    for (int64_t j = 0; j < Kp; j += kKStep) {
      __m128i b[kKStep];
      for (int64_t i = 0; i < kKStep; ++i) {
        const __mmask16 m = j + i < keys ? cm : __mmask16(0);
        const __m512i c = _mm512_maskz_cvtps_epi32(m, quotient(_mm512_maskz_loadu_ps(m, src + (j + i) * stride + c0), scale, inv, small));
        sum = _mm512_add_epi32(sum, c);
        b[i] = _mm512_cvtepi32_epi8(c);
      }
      // [key][channel] bytes -> [channel][key]: channel r's 4 keys at bytes r*4 .. r*4+3.
      const __m128i k01l = _mm_unpacklo_epi8(b[0], b[1]), k23l = _mm_unpacklo_epi8(b[2], b[3]);
      const __m128i k01h = _mm_unpackhi_epi8(b[0], b[1]), k23h = _mm_unpackhi_epi8(b[2], b[3]);
      int8_t* dst = group + (j / kKStep) * 64;
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_unpacklo_epi16(k01l, k23l));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 16), _mm_unpackhi_epi16(k01l, k23l));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 32), _mm_unpacklo_epi16(k01h, k23h));
      _mm_storeu_si128(reinterpret_cast<__m128i*>(dst + 48), _mm_unpackhi_epi16(k01h, k23h));
    }
    _mm512_storeu_ps(group + scale_offset(Kp), scale);
    _mm512_storeu_si512(group + row_sum_offset(Kp), sum);
  }
}

}  // namespace folio::cpu
