#include <algorithm>
#include <cstring>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/gemm.h"
#include "core/bf16.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

// Weight rows [n0, n1) as f32 into dst (row-major [n1-n0, K]).
void weight_rows_f32(const Tensor& w, int64_t K, int64_t n0, int64_t n1, float* dst) {
  const int64_t count = (n1 - n0) * K;
  if (w.dtype() == DType::kBF16) {
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
  init_blas();
  const int64_t N = w.dim(0);
  if (w.dim(1) != K) throw internal_error("linear: x has K=" + std::to_string(K) + " but weight is " + shape_str(w.shape()));
  if (M == 0 || N == 0) return;
  const bool half = w.dtype() == DType::kBF16 || w.dtype() == DType::kF16;
  if (!half && w.dtype() != DType::kF32) throw internal_error(std::string("linear: unsupported weight dtype ") + dtype_name(w.dtype()));

  if (half && M <= kGemvMaxRows) {
    // Memory-bound regime (decode): split the weight rows across threads.
    parallel_for(N, 16, [&](int64_t n0, int64_t n1) {
      if (w.dtype() == DType::kBF16 && gemv_bf16_avx512(x, M, K, w.data<uint16_t>(), n0, n1, bias, y, N)) return;
      gemv_generic(x, M, K, w, n0, n1, bias, y, N);
    });
    return;
  }

  // Compute-bound regime: blocks of weight rows, converted to f32 once per block and
  // multiplied with OpenBLAS. The conversion costs O(N*K), the product O(M*N*K).
  const int64_t block = std::max<int64_t>(16, std::min<int64_t>(256, (N + num_threads() - 1) / num_threads()));
  const int64_t nblocks = (N + block - 1) / block;
  parallel_for(nblocks, 1, [&](int64_t b0, int64_t b1) {
    std::vector<float> wf;
    for (int64_t b = b0; b < b1; ++b) {
      const int64_t n0 = b * block, n1 = std::min(N, n0 + block);
      const float* wp;
      if (half) {
        wf.resize((n1 - n0) * K);
        weight_rows_f32(w, K, n0, n1, wf.data());
        wp = wf.data();
      } else {
        wp = w.data<float>() + n0 * K;
      }
      sgemm(true, M, n1 - n0, K, 1.0f, x, K, wp, K, 0.0f, y + n0, N);
      if (bias)
        for (int64_t m = 0; m < M; ++m)
          for (int64_t n = n0; n < n1; ++n) y[m * N + n] += bias[n];
    }
  });
}

}  // namespace folio::cpu
