#include "core/packed_int8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/round_even.h"

namespace folio::packed_int8 {

namespace {

// |v| <= 127 here (v = w / (max|w| / 127)): in round_half_even's range.
inline int8_t round_code(float v) { return static_cast<int8_t>(static_cast<int>(round_half_even(v))); }

}  // namespace

void pack_rows(const float* src, int64_t rows, int64_t K, int64_t stride, int8_t* out) {
  const int64_t Kp = padded_k(K);
  for (int64_t g = 0; g * kGroupRows < rows; ++g) {
    int8_t* group = out + g * group_bytes(Kp);
    std::memset(group, 0, static_cast<size_t>(kGroupRows * Kp));
    float scales[kGroupRows];
    int32_t sums[kGroupRows];
    for (int64_t r = 0; r < kGroupRows; ++r) {
      const int64_t n = g * kGroupRows + r;
      scales[r] = 1.0f;
      sums[r] = 0;
      if (n >= rows) continue;
      const float* row = src + n * stride;
      float amax = 0.0f;
      for (int64_t k = 0; k < K; ++k) amax = std::max(amax, std::fabs(row[k]));
      const float scale = amax > 0 ? amax / 127.0f : 1.0f;
      int32_t sum = 0;
      for (int64_t k = 0; k < K; ++k) {
        const int8_t q = round_code(row[k] / scale);
        group[(k / kKStep) * kGroupRows * kKStep + r * kKStep + k % kKStep] = q;
        sum += q;
      }
      scales[r] = scale;
      sums[r] = sum;
    }
    std::memcpy(group + scale_offset(Kp), scales, sizeof scales);
    std::memcpy(group + row_sum_offset(Kp), sums, sizeof sums);
  }
}

}  // namespace folio::packed_int8
