// The softmax step of the int8 attention (attention_int8.cpp), in AVX-512: one query row's
// logits become 16-bit probability codes, split into two byte planes so that P·V runs as two
// u8 x s8 products (vpdpbusd). Compiled with the VNNI flags (src/CMakeLists.txt) and called
// only after have_avx512_vnni().
#include <immintrin.h>

#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/attention_int8.h"
#include "backend/cpu/unroll.h"
#include "backend/cpu/vec_math_constants.h"

namespace folio::cpu {

namespace {

// Rows [0, rows) (R at a time; the last block repeats its last row and stores only the real
// ones) against columns [t0, t0 + 16 * NV) of the transposed table.
template <int R, int NV>
void rel_pos_block(const float* q, int64_t ldq, int64_t rows, const float* tab_t, int64_t D, int64_t Tp,
                   int64_t t0, float* out, int64_t ldo) {
  for (int64_t r0 = 0; r0 < rows; r0 += R) {
    const float* qr[R];
    unroll<R>([&](auto r) { qr[r] = q + std::min<int64_t>(r0 + r, rows - 1) * ldq; });
    __m512 acc[R][NV];
    unroll<R>([&](auto r) { unroll<NV>([&](auto v) { acc[r][v] = _mm512_setzero_ps(); }); });
    for (int64_t d = 0; d < D; ++d) {
      __m512 t[NV];
      unroll<NV>([&](auto v) { t[v] = _mm512_loadu_ps(tab_t + d * Tp + t0 + 16 * v); });
      unroll<R>([&](auto r) {
        const __m512 b = _mm512_set1_ps(qr[r][d]);
        unroll<NV>([&](auto v) { acc[r][v] = _mm512_fmadd_ps(b, t[v], acc[r][v]); });
      });
    }
    unroll<R>([&](auto r) {
      if (r0 + r < rows) unroll<NV>([&](auto v) { _mm512_storeu_ps(out + (r0 + r) * ldo + t0 + 16 * v, acc[r][v]); });
    });
  }
}

inline __mmask16 first_n(int64_t n) {
  return n >= 16 ? __mmask16(0xffff) : n <= 0 ? __mmask16(0) : static_cast<__mmask16>((1u << n) - 1);
}

// 65535 * 2^t for t <= 0, as 16 int32 codes rounded half to even: t = n + f with n an integer
// and |f| <= 1/2, 2^f by its degree-6 Taylor polynomial in f·ln2 (relative error < 2e-7,
// far below the code's 1/65535 step) with the 65535 folded into the coefficients, and 2^n
// applied by vscalefps. That is the same f32 as adding n to the exponent bits (the result is
// a normal number down to the t where the code rounds to 0), in one instruction instead of
// three and without clamping t first: vscalefps takes very negative n to 0 by itself.
// f comes from vreduceps (t minus t rounded to nearest even, exact) and n = t - f (exact as
// well): the same n and f as rounding t with vrndscaleps and subtracting, one p0 operation
// fewer, the port this loop is bound by (8.8 against 10.4 cycles per 16 keys, same codes).
inline __m512i exp2_codes(__m512 t) {
  const __m512 f = _mm512_reduce_ps(t, _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  const __m512 n = _mm512_sub_ps(t, f);
  __m512 p = _mm512_set1_ps(65535.0f * 1.5403530393381608e-4f);
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f * 1.3333558146428443e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f * 9.6181291076284772e-3f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f * 5.5504108664821580e-2f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f * 2.4022650695910071e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f * 6.9314718055994531e-1f));
  p = _mm512_fmadd_ps(p, f, _mm512_set1_ps(65535.0f));
  return _mm512_cvtps_epi32(_mm512_scalef_ps(p, n));
}

}  // namespace

void rel_pos_products_avx512(const float* q, int64_t ldq, int64_t rows, const float* tab_t, int64_t D, int64_t Tp,
                             int64_t t_begin, int64_t t_end, float* out, int64_t ldo) {
  // 4 rows x 4 vectors of accumulators (16 chains of FMAs, enough to cover their latency),
  // then the last 1-3 vectors of the range with more rows per block for the same reason.
  // Every block sums d = 0, 1, ... into a zero accumulator: the same value in any block.
  int64_t t0 = t_begin;
  for (; t0 + 64 <= t_end; t0 += 64) rel_pos_block<4, 4>(q, ldq, rows, tab_t, D, Tp, t0, out, ldo);
  switch ((t_end - t0) / 16) {
    case 3: rel_pos_block<5, 3>(q, ldq, rows, tab_t, D, Tp, t0, out, ldo); break;
    case 2: rel_pos_block<8, 2>(q, ldq, rows, tab_t, D, Tp, t0, out, ldo); break;
    case 1: rel_pos_block<12, 1>(q, ldq, rows, tab_t, D, Tp, t0, out, ldo); break;
    default: break;
  }
}

int64_t softmax_codes_vnni(float* s, int64_t n, int64_t visible, const float* rel_rows, const float* rel_cols,
                           int64_t grid_w, uint8_t* hi, uint8_t* lo, int64_t n_pad) {
  // Pass 1: the relative-position terms (key j = ky * grid_w + kx gets rel_rows[ky] +
  // rel_cols[kx]) and the maximum over the visible keys.
  __m512 mx = _mm512_set1_ps(-INFINITY);
  constexpr int64_t kMaxChunks = 8;  // grids up to 128 wide keep their columns in registers
  if (rel_rows && visible == n && grid_w <= 16 * kMaxChunks) {
    // Every key visible (SAM): the masks and the column terms depend only on the column
    // chunk, so they are set up once per row instead of per vector (the mask arithmetic is
    // scalar work on the same ports as the vector adds). Grids 64 wide (global, 1024 px) use
    // full vectors, 40 wide (640 px tiles) and 14 wide (windows) masked ones. One running
    // maximum per column chunk: a single one made pass 1 a chain of dependent vmaxps (4
    // cycles each), and the grid row came from a division per row; the maximum of the same
    // values is the same whatever the order.
    const int64_t chunks = (grid_w + 15) / 16;
    __mmask16 mask[kMaxChunks];
    __m512 cols[kMaxChunks], mxc[kMaxChunks];
    for (int64_t c = 0; c < chunks; ++c) {
      mask[c] = first_n(grid_w - 16 * c);
      cols[c] = _mm512_maskz_loadu_ps(mask[c], rel_cols + 16 * c);
      mxc[c] = mx;
    }
    if (grid_w % 16 == 0) {
      for (int64_t y0 = 0, ky = 0; y0 < n; y0 += grid_w, ++ky) {
        const __m512 rh = _mm512_set1_ps(rel_rows[ky]);
        for (int64_t c = 0; c < chunks; ++c) {
          float* p = s + y0 + 16 * c;
          const __m512 v = _mm512_add_ps(_mm512_loadu_ps(p), _mm512_add_ps(rh, cols[c]));
          _mm512_storeu_ps(p, v);
          mxc[c] = _mm512_max_ps(mxc[c], v);
        }
      }
    } else {
      // The terms rh + cols first, into their own row (masked stores only), then s + terms in
      // full vectors: in place, each grid row's masked load overlapped the previous row's
      // masked store, and waited for it to reach L1 (a chain through memory that took 40% of
      // the softmax of SAM's 14 x 14 windows). Same sums, same order.
      thread_local std::vector<float> terms_row;
      terms_row.resize(static_cast<size_t>(n + 16));
      float* const terms = terms_row.data();
      for (int64_t y0 = 0, ky = 0; y0 < n; y0 += grid_w, ++ky) {
        const __m512 rh = _mm512_set1_ps(rel_rows[ky]);
        for (int64_t c = 0; c < chunks; ++c) _mm512_mask_storeu_ps(terms + y0 + 16 * c, mask[c], _mm512_add_ps(rh, cols[c]));
      }
      __m512 row_max = mx;
      for (int64_t j = 0; j < n; j += 16) {
        const __mmask16 m = first_n(n - j);
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + j), _mm512_maskz_loadu_ps(m, terms + j));
        _mm512_mask_storeu_ps(s + j, m, v);
        row_max = _mm512_mask_max_ps(row_max, m, row_max, v);
      }
      mxc[0] = row_max;
    }
    for (int64_t c = 0; c < chunks; ++c) mx = _mm512_max_ps(mx, mxc[c]);
  } else if (rel_rows) {
    for (int64_t y0 = 0; y0 < n; y0 += grid_w) {
      const __m512 rh = _mm512_set1_ps(rel_rows[y0 / grid_w]);
      for (int64_t kx = 0; kx < grid_w; kx += 16) {
        const __mmask16 m = first_n(grid_w - kx), vis = m & first_n(visible - y0 - kx);
        const __m512 v = _mm512_add_ps(_mm512_maskz_loadu_ps(m, s + y0 + kx), _mm512_add_ps(rh, _mm512_maskz_loadu_ps(m, rel_cols + kx)));
        _mm512_mask_storeu_ps(s + y0 + kx, m, v);
        mx = _mm512_mask_max_ps(mx, vis, mx, v);
      }
    }
  } else {
    for (int64_t j = 0; j < visible; j += 16) {
      const __mmask16 m = first_n(visible - j);
      mx = _mm512_mask_max_ps(mx, m, mx, _mm512_maskz_loadu_ps(m, s + j));
    }
  }
  // Pass 2: code = round(65535 * exp(s - max)) = 65535 * 2^((s - max) * log2 e). The largest
  // key gets 65535, a key 11 nats below it still 1; the high and low bytes of the codes feed
  // the two P·V passes.
  const __m512 log2e = _mm512_set1_ps(vmc::kLog2e);
  const __m512 shift = _mm512_set1_ps(-_mm512_reduce_max_ps(mx) * vmc::kLog2e);
  __m512i sum = _mm512_setzero_si512();
  int64_t j = 0;
  if (visible == n) {
    // 64 keys at a time, stored with two saturating packs and one dword permute per plane
    // instead of eight narrowing stores.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    const __m512i low_byte = _mm512_set1_epi16(255);
    for (; j + 64 <= n; j += 64) {
      __m512i c[4];
      for (int i = 0; i < 4; ++i) {
        c[i] = exp2_codes(_mm512_fmadd_ps(_mm512_loadu_ps(s + j + 16 * i), log2e, shift));
        sum = _mm512_add_epi32(sum, c[i]);
      }
      // packus_epi32 keeps 128-bit lanes: word order (lane L) c0[4L..4L+3] c1[4L..4L+3]; the
      // byte pack then gives c0 c1 c2 c3 quads per lane, which `order` puts back in key order.
      const __m512i w01 = _mm512_packus_epi32(c[0], c[1]), w23 = _mm512_packus_epi32(c[2], c[3]);
      const __m512i h = _mm512_packus_epi16(_mm512_srli_epi16(w01, 8), _mm512_srli_epi16(w23, 8));
      const __m512i l = _mm512_packus_epi16(_mm512_and_si512(w01, low_byte), _mm512_and_si512(w23, low_byte));
      _mm512_storeu_si512(hi + j, _mm512_permutexvar_epi32(order, h));
      _mm512_storeu_si512(lo + j, _mm512_permutexvar_epi32(order, l));
    }
  }
  for (; j < n_pad; j += 16) {
    const __mmask16 m = first_n(visible - j);
    const __m512i code = _mm512_maskz_mov_epi32(m, exp2_codes(_mm512_fmadd_ps(_mm512_maskz_loadu_ps(m, s + j), log2e, shift)));
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
