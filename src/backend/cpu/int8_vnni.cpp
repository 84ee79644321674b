// The int8 product's kernels for AVX512-VNNI. Compiled with -mavx512vnni (src/CMakeLists.txt)
// and only called after have_avx512_vnni(), so the binary still runs on older CPUs.
//
// Register tile: 6 activation rows x 64 output columns (4 groups of 16) = 24 zmm accumulators
// of the 32, plus 4 weight vectors and 1 broadcast. Per 4 k: 4 weight loads and 6 broadcasts
// feed 24 vpdpbusd (each 16 columns x 4 u8·s8 products into int32 lanes; no intermediate
// saturation, unlike vpmaddubsw). K runs in blocks so that the 64-column weight panel of a
// block (64 x 512 bytes) stays in L1 while every row tile of the block passes over it.
#include <immintrin.h>

#include <cstring>

#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/prefetch_rows.h"
#include "backend/cpu/unroll.h"
#include "backend/cpu/vec_math_avx512.h"
#include "core/packed_int8.h"

namespace folio::cpu {

namespace {

using namespace packed_int8;

constexpr int kMR = 6;
constexpr int kNV = 4;
constexpr int64_t kKBlock = 512;
// Shortest k block whose tiles prefetch the next tile's outputs (see Prefetches).
constexpr int64_t kMinPrefetchK = 128;
// Largest Kp whose sums and zero-point terms (|code·q| <= 255 * 127 per k, |a_zero * Σq| the
// same bound) all stay below 2^24: f32 holds them exactly.
constexpr int64_t kExactFloatK = 512;

// The output lines of the next tile that writes its results, requested (prefetchw) one per
// two k steps while this tile computes: the stores of a tile's epilogue then find their lines
// in L1 instead of stalling on memory (10-15% of the kernel's samples in SAM's q/k/v product).
// Only for products that store without reading y first (Int8Block::y_in_memory).
struct Prefetches {
  static constexpr int kMax = kMR * kNV;
  const char* line[kMax];
  int count = 0;
};

// The activation of a finished tile, in place while its MR x 64 floats are still in L1. A
// separate call rather than inline in tile(): with 24 copies of GELU inside it, GCC stopped
// inlining tile()'s lambdas and the accumulators went to memory (3x slower).
__attribute__((noinline)) void activate(const Int8Block& b, int64_t m, int64_t g, int rows, int groups) {
  for (int r = 0; r < rows; ++r) {
    float* out = b.y + (m + r) * b.ldy + g * kGroupRows;
    for (int v = 0; v < groups; ++v) {
      const __m512 x = _mm512_loadu_ps(out + v * kGroupRows);
      _mm512_storeu_ps(out + v * kGroupRows, b.then == Int8Then::kGeluErf ? gelu_erf16(x) : x_sigmoid16(x, 1.702f));
    }
  }
}

// Rows [m, m+MR) x groups [g, g+NV) of the block over k in [k0, k0 + 4*steps).
// first: start from zero (else from scratch); last: rescale into y (else park in scratch).
template <int MR, int NV>
void tile(const Int8Block& b, int64_t m, int64_t g, int64_t k0, int64_t steps, bool first, bool last,
          const Prefetches& pf) {
  const int64_t gstride = group_bytes(b.Kp), lda = b.Kp;
  const uint8_t* a = b.a + m * lda + k0;
  const int8_t* w = b.w + g * gstride + k0 * kGroupRows;
  int32_t* park = b.scratch + m * kNV * kGroupRows;
  __m512i acc[MR][NV];
  unroll<MR>([&](auto r) {
    unroll<NV>([&](auto v) {
      acc[r][v] = first ? _mm512_setzero_si512() : _mm512_loadu_si512(park + (r * kNV + v) * kGroupRows);
    });
  });
  auto step = [&](int64_t s) __attribute__((always_inline)) {
    __m512i wv[NV];
    unroll<NV>([&](auto v) { wv[v] = _mm512_loadu_si512(w + v * gstride + s * kGroupRows * kKStep); });
    unroll<MR>([&](auto r) {
      int32_t four;
      std::memcpy(&four, a + r * lda + s * kKStep, 4);
      const __m512i av = _mm512_set1_epi32(four);
      unroll<NV>([&](auto v) { acc[r][v] = _mm512_dpbusd_epi32(acc[r][v], av, wv[v]); });
    });
  };
  // Two steps per prefetch while there are lines to ask for, then the plain loop: a check in
  // every step cost the tiles without prefetches (attention's) 5-10%.
  int64_t s = 0;
  for (const int64_t paired = std::min<int64_t>(pf.count, steps / 2); s < paired; ++s) {
    asm volatile("prefetchw %0" ::"m"(*pf.line[s]));
    step(2 * s);
    step(2 * s + 1);
  }
  for (s *= 2; s < steps; ++s) step(s);
  if (!last) {
    unroll<MR>([&](auto r) {
      unroll<NV>([&](auto v) { _mm512_storeu_si512(park + (r * kNV + v) * kGroupRows, acc[r][v]); });
    });
    return;
  }
  // y = a_scale * w_scale * (Σ code·q - a_zero * Σq) + bias: the zero point's share of the
  // sum is a_zero times the row sum of the weight codes, stored with the weight.
  // Below kExactFloatK every int32 here is below 2^24 in magnitude, so it converts to f32
  // exactly and the fused a_zero * Σq - sum rounds once: the same f32 as the integer
  // subtraction, in 2 vector operations instead of 4 (vpmulld alone is 2). Short products
  // (attention's q·kᵀ over a head's 64 channels) spent a third of their time here.
  // The block's fields are read once into locals, and each row's zero point converted to f32
  // once (then a broadcast operand of the fnmadd): GCC otherwise reloaded them and converted
  // per 16 outputs, a third more instructions in the epilogue of attention's short tiles.
  const bool exact_f32 = b.Kp <= kExactFloatK, accumulate = b.accumulate, add_to = b.then == Int8Then::kAddTo;
  const float* const a_scale = b.a_scale + m;
  const float* const bias_row = b.bias && !accumulate ? b.bias + g * kGroupRows : nullptr;
  const int8_t* const w0 = b.w + g * gstride;
  const int64_t ldy = b.ldy, scale_at = scale_offset(b.Kp), sum_at = row_sum_offset(b.Kp);
  float* const y0 = b.y + m * ldy + g * kGroupRows;
  float zero_f[MR];
  int32_t zero_i[MR];
  unroll<MR>([&](auto r) {
    zero_i[r] = b.a_zero[m + r];
    zero_f[r] = static_cast<float>(zero_i[r]);
  });
  unroll<NV>([&](auto v) {
    const int8_t* group = w0 + v * gstride;
    const __m512 w_scale = _mm512_loadu_ps(group + scale_at);
    const __m512i w_sum = _mm512_loadu_si512(group + sum_at);
    const __m512 w_sum_f = _mm512_cvtepi32_ps(w_sum);
    const __m512 bias = bias_row ? _mm512_loadu_ps(bias_row + v * kGroupRows) : _mm512_setzero_ps();
    unroll<MR>([&](auto r) {
      const __m512 sum = exact_f32 ? _mm512_fnmadd_ps(_mm512_set1_ps(zero_f[r]), w_sum_f, _mm512_cvtepi32_ps(acc[r][v]))
                                   : _mm512_cvtepi32_ps(_mm512_sub_epi32(acc[r][v], _mm512_mullo_epi32(_mm512_set1_epi32(zero_i[r]), w_sum)));
      const __m512 s = _mm512_mul_ps(_mm512_set1_ps(a_scale[r]), w_scale);
      float* out = y0 + r * ldy + v * kGroupRows;
      if (accumulate) {
        _mm512_storeu_ps(out, _mm512_fmadd_ps(sum, s, _mm512_loadu_ps(out)));
        return;
      }
      const __m512 value = _mm512_fmadd_ps(sum, s, bias);
      _mm512_storeu_ps(out, add_to ? _mm512_add_ps(_mm512_loadu_ps(out), value) : value);
    });
  });
  if (b.then == Int8Then::kGeluErf || b.then == Int8Then::kQuickGelu) activate(b, m, g, MR, NV);
}

using TileFn = void (*)(const Int8Block&, int64_t, int64_t, int64_t, int64_t, bool, bool, const Prefetches&);

template <int NV>
TileFn tile_for_rows(int rows) {
  switch (rows) {
    case 6: return tile<6, NV>;
    case 5: return tile<5, NV>;
    case 4: return tile<4, NV>;
    case 3: return tile<3, NV>;
    case 2: return tile<2, NV>;
    default: return tile<1, NV>;
  }
}

TileFn tile_for(int rows, int groups) {
  switch (groups) {
    case 4: return tile_for_rows<4>(rows);
    case 3: return tile_for_rows<3>(rows);
    case 2: return tile_for_rows<2>(rows);
    default: return tile_for_rows<1>(rows);
  }
}

}  // namespace

void int8_block_vnni(const Int8Block& b) {
  // Tiles in the order they run: groups, then k blocks, then rows. Each tile gets the output
  // lines of the next tile in that order if that one ends its sums (its k block is the last);
  // not for short k blocks (attention's q·kᵀ over 64 channels), whose outputs stay in L2 and
  // whose tiles are too short to spend time listing lines.
  const bool store_only = b.y_in_memory && !b.accumulate && b.then != Int8Then::kAddTo;
  Prefetches pf;
  for (int64_t g = 0; g < b.groups; g += kNV) {
    const int nv = static_cast<int>(std::min<int64_t>(kNV, b.groups - g));
    for (int64_t k0 = 0; k0 < b.Kp; k0 += kKBlock) {
      const int64_t kb = std::min(kKBlock, b.Kp - k0);
      const bool first = k0 == 0, last = k0 + kb == b.Kp;
      for (int64_t m = 0; m < b.rows; m += kMR) {
        const int mr = static_cast<int>(std::min<int64_t>(kMR, b.rows - m));
        pf.count = 0;
        if (store_only && kb >= kMinPrefetchK) {
          // The next tile: rows m + kMR of this block, else row 0 of the next k block (or of
          // the next groups, whose k block may be the last as well).
          int64_t nm = m + kMR, ng = g, nk0 = k0;
          if (nm >= b.rows) {
            nm = 0;
            nk0 = k0 + kb;
            if (nk0 >= b.Kp) nk0 = 0, ng = g + kNV;
          }
          const bool next_writes = ng < b.groups && nk0 + kKBlock >= b.Kp;
          if (next_writes) {
            const int nmr = static_cast<int>(std::min<int64_t>(kMR, b.rows - nm));
            const int nnv = static_cast<int>(std::min<int64_t>(kNV, b.groups - ng));
            for (int r = 0; r < nmr; ++r) {
              const char* row = reinterpret_cast<const char*>(b.y + (nm + r) * b.ldy + ng * kGroupRows);
              for (int v = 0; v < nnv; ++v) pf.line[pf.count++] = row + v * 64;
            }
          }
        }
        tile_for(mr, nv)(b, m, g, k0, kb / kKStep, first, last, pf);
      }
    }
  }
}

void quantize_rows_u8_vnni(const float* x, int64_t ldx, int64_t rows, int64_t K, int64_t Kp, uint8_t* q,
                           float* scale, int32_t* zero) {
  const int64_t full = K / 16 * 16;
  const auto tail = static_cast<__mmask16>((1u << (K - full)) - 1);
  // Rows are prefetched ahead (prefetch_rows.h): without it the first pass over each row (its
  // range) waited on memory for 60% of this function's time; attention's queries (256 bytes of
  // each 3 KB token row) the hardware prefetchers do not follow at all.
  const int64_t ahead = rows_ahead(K);
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    uint8_t* qr = q + r * Kp;
    if (r + ahead < rows) prefetch_row(xr + ahead * ldx, K);
    __m512 mn = _mm512_set1_ps(INFINITY), mx = _mm512_set1_ps(-INFINITY);
    for (int64_t k = 0; k < full; k += 16) {
      const __m512 v = _mm512_loadu_ps(xr + k);
      mn = _mm512_min_ps(mn, v);
      mx = _mm512_max_ps(mx, v);
    }
    if (tail) {
      const __m512 v = _mm512_maskz_loadu_ps(tail, xr + full);
      mn = _mm512_mask_min_ps(mn, tail, mn, v);
      mx = _mm512_mask_max_ps(mx, tail, mx, v);
    }
    const U8RowParams p = u8_row_params(_mm512_reduce_min_ps(mn), _mm512_reduce_max_ps(mx));
    scale[r] = p.scale;
    zero[r] = p.zero;
    const __m512 inv = _mm512_set1_ps(p.inv);
    const __m512i z = _mm512_set1_epi32(p.zero), lo = _mm512_setzero_si512(), hi = _mm512_set1_epi32(255);
    // cvtps_epi32 rounds half to even under the default MXCSR, like nearbyint in the portable copy.
    auto unclamped = [&](__m512 v) { return _mm512_add_epi32(_mm512_cvtps_epi32(_mm512_mul_ps(v, inv)), z); };
    auto codes = [&](__m512 v) { return _mm512_min_epi32(_mm512_max_epi32(unclamped(v), lo), hi); };
    // 64 at a time, clamped by the saturation of two packs (int32 -> [0, 65535] -> [0, 255]:
    // the unclamped codes lie in [-1, 256], well inside int16) and put back in order by one
    // dword permute: 4 operations per 64 codes instead of 16 for the clamps and narrowing
    // stores, the same bytes.
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    int64_t k = 0;
    for (; k + 64 <= full; k += 64) {
      const __m512i w01 = _mm512_packus_epi32(unclamped(_mm512_loadu_ps(xr + k)), unclamped(_mm512_loadu_ps(xr + k + 16)));
      const __m512i w23 = _mm512_packus_epi32(unclamped(_mm512_loadu_ps(xr + k + 32)), unclamped(_mm512_loadu_ps(xr + k + 48)));
      _mm512_storeu_si512(qr + k, _mm512_permutexvar_epi32(order, _mm512_packus_epi16(w01, w23)));
    }
    for (; k < full; k += 16)
      _mm_storeu_si128(reinterpret_cast<__m128i*>(qr + k), _mm512_cvtepi32_epi8(codes(_mm512_loadu_ps(xr + k))));
    if (tail) _mm512_mask_cvtepi32_storeu_epi8(qr + full, tail, codes(_mm512_maskz_loadu_ps(tail, xr + full)));
    for (int64_t k = K; k < Kp; ++k) qr[k] = static_cast<uint8_t>(p.zero);
  }
}

}  // namespace folio::cpu
