#include "weights/quantize.h"

#include <immintrin.h>

#include <cfloat>
#include <cmath>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "core/parallel.h"
#include "core/round_even.h"

namespace folio {

namespace {

// Row n of w as f32: f32 rows in place, others converted into `buffer`.
const float* row_f32(const Tensor& w, int64_t n, std::vector<float>& buffer) {
  const int64_t K = w.dim(1);
  if (w.dtype() == DType::kF32) return w.data<float>() + n * K;
  w.copy_f32(n * K, K, buffer.data());
  return buffer.data();
}

struct RowRange {
  float amax = 0.0f;
  bool finite = true;  // no NaN or infinity (std::max alone skips NaNs)
};

RowRange row_range(const float* __restrict row, int64_t K) {
  // In 8 lanes (GCC leaves a float maximum loop scalar). _mm256_max_ps(a, m) is a > m ? a : m,
  // which skips NaNs like the scalar rule; `bad` sums |x| * 0, NaN exactly when a NaN or an
  // infinity was seen.
  const __m256 sign = _mm256_set1_ps(-0.0f), zero = _mm256_setzero_ps();
  __m256 amax = zero, bad = zero;
  int64_t k = 0;
  for (; k + 8 <= K; k += 8) {
    const __m256 a = _mm256_andnot_ps(sign, _mm256_loadu_ps(row + k));
    amax = _mm256_max_ps(a, amax);
    bad = _mm256_add_ps(bad, _mm256_mul_ps(a, zero));
  }
  alignas(32) float lanes[8], bad_lanes[8];
  _mm256_store_ps(lanes, amax);
  _mm256_store_ps(bad_lanes, bad);
  RowRange r;
  for (int l = 0; l < 8; ++l) {
    r.amax = lanes[l] > r.amax ? lanes[l] : r.amax;
    r.finite &= bad_lanes[l] == 0.0f;
  }
  for (; k < K; ++k) {
    const float a = std::fabs(row[k]);
    r.amax = a > r.amax ? a : r.amax;
    r.finite &= a * 0.0f == 0.0f;
  }
  return r;
}

// Separate from the row's source so that the compiler knows the bytes written do not alias
// the floats read (int8_t may alias anything) and vectorises the loop.
void codes(const float* __restrict row, int64_t K, float scale, int8_t* __restrict dst) {
  for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<int8_t>(static_cast<int32_t>(round_half_even(row[k] / scale)));
}

}  // namespace

Tensor quantize_rows_int8(const Tensor& w) {
  if (w.ndim() != 2) throw internal_error("quantize_rows_int8: expected a matrix, got " + shape_str(w.shape()));
  const int64_t N = w.dim(0), K = w.dim(1);
  Tensor q = Tensor::empty({N, K + kInt8RowExtra}, DType::kI8);
  parallel_for(N, 64, [&](int64_t n0, int64_t n1) {
    std::vector<float> buffer(static_cast<size_t>(K));
    for (int64_t n = n0; n < n1; ++n) {
      const float* row = row_f32(w, n, buffer);
      const RowRange range = row_range(row, K);
      const float amax = range.amax;
      const float scale = amax > 0 ? amax / 127.0f : 1.0f;
      int8_t* dst = q.data<int8_t>() + n * (K + kInt8RowExtra);
      if (range.finite && scale >= FLT_MIN) {
        codes(row, K, scale, dst);  // |row[k] / scale| <= 127 (and a little): round_half_even's range
      } else {  // a row with a NaN, an infinity or only subnormal values: as before
        for (int64_t k = 0; k < K; ++k) dst[k] = static_cast<int8_t>(std::lrint(row[k] / scale));
      }
      std::memcpy(dst + K, &scale, 4);
    }
  });
  return q;
}

}  // namespace folio
