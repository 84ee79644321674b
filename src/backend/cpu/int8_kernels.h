// Internal interface between the int8 product's driver (int8_linear.cpp) and its kernels: the
// VNNI one (int8_vnni.cpp, compiled for AVX512-VNNI and called only after a run-time check)
// and the portable one (int8_portable.cpp). Both compute the same int32 sums from the same
// bytes, so they differ only in the rounding of the final f32 rescale.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>

namespace folio::cpu {

// The last step of an output value v = result + bias: stored as is, through an activation
// (the same f32 as the backend's separate activation pass), or added to the value already in
// y (y + v, rounded once more, as add() would).
enum class Int8Then { kStore, kGeluErf, kQuickGelu, kAddTo };

// One block of the product: `rows` quantised activation rows against `groups` 16-column groups
// of a packed weight (core/packed_int8.h).
struct Int8Block {
  const uint8_t* a = nullptr;      // [rows, Kp] u8 codes, row stride Kp
  const float* a_scale = nullptr;  // [rows]: x ≈ a_scale * (code - a_zero)
  const int32_t* a_zero = nullptr; // [rows]
  int64_t rows = 0, Kp = 0;
  const int8_t* w = nullptr;       // first group of the block's columns
  int64_t groups = 0;
  const float* bias = nullptr;     // at the block's first column, or nullptr
  float* y = nullptr;              // output at (block row 0, block column 0)
  int64_t ldy = 0;
  bool accumulate = false;         // y += result (bias ignored) instead of y = result + bias
  Int8Then then = Int8Then::kStore;  // what happens to result + bias (when !accumulate)
  int32_t* scratch = nullptr;      // rows * 64 int32: partial sums kept between K blocks
  // y is a large output that is written without being read (kStore or an activation): the
  // VNNI kernel then asks for each tile's output lines while the tile before it computes, as
  // stores alone do not start the hardware prefetchers (y's loads in kAddTo do). Set false
  // where y stays in cache (small blocks).
  bool y_in_memory = true;
};

void int8_block_vnni(const Int8Block& b);
void int8_block_portable(const Int8Block& b);

// Per-row asymmetric u8 quantisation: the range [min(x), max(x)] widened to include 0 so that
// 0 has an exact code (zero padding of im2col and of SAM's windows stays exactly 0); 255
// steps over the range rather than symmetric int8's 254 over [-max|x|, max|x|], which
// matters for the one-sided outputs of GELU.
struct U8RowParams {
  float scale, inv;
  int32_t zero;
};

inline U8RowParams u8_row_params(float mn, float mx) {
  const float lo = std::min(mn, 0.0f), hi = std::max(mx, 0.0f);
  const float scale = (hi - lo) / 255.0f;
  if (!(scale > 0.0f)) return {1.0f, 1.0f, 0};  // an all-zero row
  const float inv = 1.0f / scale;
  const auto zero = static_cast<int32_t>(std::clamp(std::nearbyint(-lo * inv), 0.0f, 255.0f));
  return {scale, inv, zero};
}

// code = clamp(round_half_even(x * inv) + zero, 0, 255); the k in [K, Kp) get `zero` (their
// weights are 0). x [rows, K] with row stride ldx -> q [rows, Kp], scale/zero [rows].
void quantize_rows_u8_vnni(const float* x, int64_t ldx, int64_t rows, int64_t K, int64_t Kp, uint8_t* q,
                           float* scale, int32_t* zero);
void quantize_rows_u8_portable(const float* x, int64_t ldx, int64_t rows, int64_t K, int64_t Kp, uint8_t* q,
                               float* scale, int32_t* zero);

}  // namespace folio::cpu
