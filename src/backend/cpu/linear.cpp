#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/int8_linear.h"
#include "core/bf16.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

// Weight rows [n0, n1) as f32 into dst (row-major [n1-n0, K]).
void weight_rows_f32(const Tensor& w, int64_t K, int64_t n0, int64_t n1, float* dst) {
  const int64_t count = (n1 - n0) * K;
  if (w.dtype() == DType::kI8) {
    const int64_t stride = K + 4;  // weights/quantize.h layout
    for (int64_t n = n0; n < n1; ++n) {
      const int8_t* row = w.data<int8_t>() + n * stride;
      float scale;
      std::memcpy(&scale, row + K, 4);
      for (int64_t k = 0; k < K; ++k) dst[(n - n0) * K + k] = scale * row[k];
    }
  } else if (w.dtype() == DType::kBF16) {
    const uint16_t* src = w.data<uint16_t>() + n0 * K;
    for (int64_t i = 0; i < count; ++i) {
      const uint32_t bits = static_cast<uint32_t>(src[i]) << 16;
      std::memcpy(dst + i, &bits, 4);
    }
  } else {
    const uint16_t* src = w.data<uint16_t>() + n0 * K;
    for (int64_t i = 0; i < count; ++i) dst[i] = f16_to_f32(src[i]);
  }
}

// Few rows: a dot product per weight row, reading the weights once.
constexpr int64_t kGemvMaxRows = 8;
// int8 weights up to this many rows (the prefill's expert products, ~27 rows on average):
// converting the whole weight to f32 for OpenBLAS cost more than the product itself, while
// the int8 rows, read in blocks of 8 rows of x, stay in L2.
constexpr int64_t kInt8FewRowsMax = 64;

void gemv_generic(const float* x, int64_t M, int64_t K, const Tensor& w, int64_t n0, int64_t n1, const float* bias,
                  float* y, int64_t N) {
  std::vector<float> row(K);
  for (int64_t n = n0; n < n1; ++n) {
    weight_rows_f32(w, K, n, n + 1, row.data());
    for (int64_t m = 0; m < M; ++m) {
      const float* xr = x + m * K;
      float acc = 0.0f;
      for (int64_t k = 0; k < K; ++k) acc += xr[k] * row[k];
      y[m * N + n] = acc + (bias ? bias[n] : 0.0f);
    }
  }
}

}  // namespace

void linear(const float* x, int64_t M, int64_t K, const Tensor& w, const float* bias, float* y) {
  if (w.dtype() == DType::kI8Packed) return linear_packed_int8(x, M, K, w, bias, y);
  init_blas();
  const int64_t N = w.dim(0);
  const bool int8 = w.dtype() == DType::kI8;
  if (w.dim(1) != K + (int8 ? 4 : 0)) throw internal_error("linear: x has K=" + std::to_string(K) + " but weight is " + shape_str(w.shape()));
  if (M == 0 || N == 0) return;
  const bool half = w.dtype() == DType::kBF16 || w.dtype() == DType::kF16 || int8;  // stored narrower than f32
  if (!half && w.dtype() != DType::kF32) throw internal_error(std::string("linear: unsupported weight dtype ") + dtype_name(w.dtype()));

  if (half && (M <= kGemvMaxRows || (int8 && M <= kInt8FewRowsMax))) {
    // Memory-bound regime (decode): split the weight rows across threads.
    parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
      if (w.dtype() == DType::kBF16 && gemv_bf16_avx512(x, M, K, w.data<uint16_t>(), n0, n1, bias, y, N)) return;
      if (int8 && gemv_int8_avx512(x, M, K, w.data<int8_t>(), n0, n1, bias, y, N)) return;
      gemv_generic(x, M, K, w, n0, n1, bias, y, N);
    });
    return;
  }

  // Compute-bound regime: the weight converted to f32 once per call (O(N*K), against the
  // product's O(M*N*K)), then row blocks of x multiplied by OpenBLAS on each thread, so each
  // thread packs the shared weight once instead of re-packing x for every weight block.
  std::vector<float> wf;
  const float* wp = w.dtype() == DType::kF32 ? w.data<float>() : nullptr;
  if (half) {
    wf.resize(static_cast<size_t>(N) * K);
    parallel_for(N, 64, [&](int64_t n0, int64_t n1) { weight_rows_f32(w, K, n0, n1, wf.data() + n0 * K); });
    wp = wf.data();
  }
  const int64_t rows_per_task = std::max<int64_t>(16, (M + num_threads() - 1) / num_threads());
  parallel_for(M, rows_per_task, [&](int64_t m0, int64_t m1) {
    sgemm(true, m1 - m0, N, K, 1.0f, x + m0 * K, K, wp, K, 0.0f, y + m0 * N, N);
    if (bias)
      for (int64_t m = m0; m < m1; ++m)
        for (int64_t n = 0; n < N; ++n) y[m * N + n] += bias[n];
  });
}

}  // namespace folio::cpu
