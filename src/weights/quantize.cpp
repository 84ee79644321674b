#include "weights/quantize.h"

#include <cmath>
#include <cstring>

#include "core/error.h"
#include "core/parallel.h"

namespace folio {

Tensor quantize_rows_int8(const Tensor& w) {
  if (w.ndim() != 2) throw internal_error("quantize_rows_int8: expected a matrix, got " + shape_str(w.shape()));
  const int64_t N = w.dim(0), K = w.dim(1);
  Tensor q = Tensor::empty({N, K + kInt8RowExtra}, DType::kI8);
  parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
    for (int64_t n = n0; n < n1; ++n) {
      const std::vector<float> row = w.rows(n, n + 1).to_vector_f32();
      float amax = 0.0f;
      for (float v : row) amax = std::max(amax, std::fabs(v));
      const float scale = amax > 0 ? amax / 127.0f : 1.0f;
      int8_t* dst = q.data<int8_t>() + n * (K + kInt8RowExtra);
      for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<int8_t>(std::lrint(row[k] / scale));
      std::memcpy(dst + K, &scale, 4);
    }
  });
  return q;
}

}  // namespace folio
