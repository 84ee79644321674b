#include "weights/pack_int8.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/packed_int8.h"
#include "core/parallel.h"

namespace folio {

using namespace packed_int8;

bool can_pack_rows_int8(const Tensor& w) { return w.ndim() == 2 && w.dim(0) > 0 && w.dim(0) % kGroupRows == 0; }

Tensor pack_rows_int8(const Tensor& w) {
  if (!can_pack_rows_int8(w))
    throw internal_error("pack_rows_int8: expected a matrix with a multiple of 16 rows, got " + shape_str(w.shape()));
  const int64_t N = w.dim(0), K = w.dim(1), Kp = padded_k(K);
  Tensor out = Tensor::zeros({N, Kp + kRowExtra}, DType::kI8Packed);
  parallel_for(N / kGroupRows, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      int8_t* group = out.data<int8_t>() + g * group_bytes(Kp);
      float scales[kGroupRows];
      int32_t sums[kGroupRows];
      for (int64_t r = 0; r < kGroupRows; ++r) {
        const std::vector<float> row = w.rows(g * kGroupRows + r, g * kGroupRows + r + 1).to_vector_f32();
        float amax = 0.0f;
        for (float v : row) amax = std::max(amax, std::fabs(v));
        const float scale = amax > 0 ? amax / 127.0f : 1.0f;
        int32_t sum = 0;
        for (int64_t k = 0; k < K; ++k) {
          const auto q = static_cast<int8_t>(std::lrint(row[k] / scale));
          group[(k / kKStep) * kGroupRows * kKStep + r * kKStep + k % kKStep] = q;
          sum += q;
        }
        scales[r] = scale;
        sums[r] = sum;
      }
      std::memcpy(group + scale_offset(Kp), scales, sizeof scales);
      std::memcpy(group + row_sum_offset(Kp), sums, sizeof sums);
    }
  });
  return out;
}

}  // namespace folio
