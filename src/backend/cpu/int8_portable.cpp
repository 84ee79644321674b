// The int8 product's kernels in plain C++: the same integer sums as int8_vnni.cpp for CPUs
// without AVX512-VNNI and as the second opinion in the unit tests. Not fast; the model loader
// keeps fp32 weights on such CPUs (Backend::fast_int8_linear).
#include <cstring>

#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/vec_math.h"
#include "core/packed_int8.h"

namespace folio::cpu {

using namespace packed_int8;

void int8_block_portable(const Int8Block& b) {
  const int64_t gstride = group_bytes(b.Kp);
  for (int64_t g = 0; g < b.groups; ++g) {
    const int8_t* group = b.w + g * gstride;
    float w_scale[kGroupRows];
    int32_t w_sum[kGroupRows];
    std::memcpy(w_scale, group + scale_offset(b.Kp), sizeof w_scale);
    std::memcpy(w_sum, group + row_sum_offset(b.Kp), sizeof w_sum);
    for (int64_t r = 0; r < b.rows; ++r) {
      const uint8_t* a = b.a + r * b.Kp;
      int32_t acc[kGroupRows] = {};
      for (int64_t s = 0; s < b.Kp / kKStep; ++s)
        for (int64_t c = 0; c < kGroupRows; ++c)
          for (int64_t j = 0; j < kKStep; ++j)
            acc[c] += int32_t(a[s * kKStep + j]) * group[(s * kGroupRows + c) * kKStep + j];
      for (int64_t c = 0; c < kGroupRows; ++c) {
        const int32_t exact = acc[c] - b.a_zero[r] * w_sum[c];
        float& out = b.y[r * b.ldy + g * kGroupRows + c];
        const float add = b.accumulate ? out : (b.bias ? b.bias[g * kGroupRows + c] : 0.0f);
        const float value = static_cast<float>(exact) * (b.a_scale[r] * w_scale[c]) + add;
        if (b.accumulate) {
          out = value;
          continue;
        }
        switch (b.then) {
          case Int8Then::kStore: out = value; break;
          case Int8Then::kGeluErf: out = 0.5f * value * (1.0f + fast_erf(value * 0.70710678118654752f)); break;
          case Int8Then::kQuickGelu: out = value / (1.0f + fast_exp(-1.702f * value)); break;
          case Int8Then::kAddTo: out += value; break;
        }
      }
    }
  }
}

void quantize_rows_u8_portable(const float* x, int64_t ldx, int64_t rows, int64_t K, int64_t Kp, uint8_t* q,
                               float* scale, int32_t* zero) {
  for (int64_t r = 0; r < rows; ++r) {
    const float* xr = x + r * ldx;
    float mn = INFINITY, mx = -INFINITY;
    for (int64_t k = 0; k < K; ++k) {
      mn = std::min(mn, xr[k]);
      mx = std::max(mx, xr[k]);
    }
    const U8RowParams p = u8_row_params(mn, mx);
    scale[r] = p.scale;
    zero[r] = p.zero;
    for (int64_t k = 0; k < K; ++k) {
      const float c = std::nearbyint(xr[k] * p.inv) + static_cast<float>(p.zero);
      q[r * Kp + k] = static_cast<uint8_t>(std::clamp(c, 0.0f, 255.0f));
    }
    for (int64_t k = K; k < Kp; ++k) q[r * Kp + k] = static_cast<uint8_t>(p.zero);
  }
}

}  // namespace folio::cpu
