// The int8 matrix product of the CPU backend for weights packed at load by
// weights/pack_int8.h (DType::kI8Packed): activations are quantised per row to u8 with a
// zero point, products accumulate exactly in int32 (AVX512-VNNI vpdpbusd: u8 x s8), and each
// output is rescaled to f32 once. About four times the fp32 rate on the same cores, at an
// accuracy cost measured by `folio conformance --encoder-weights int8`.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "core/tensor.h"

namespace folio::cpu {

// True when this CPU runs the VNNI kernel (checked at run time: the binary also runs on CPUs
// without AVX512-VNNI, where the portable kernel gives the same int32 sums, slowly).
bool have_avx512_vnni();

enum class Int8Kernel { kAuto, kPortable };

// y[M, N] = x[M, K] · w[N, K]ᵀ (+ bias[N]); w a packed weight [N, padded_k(K) + 8] or a view of
// 16-aligned rows of one. x, y f32 row-major. Multi-threaded over the process pool.
// then: what becomes of each result (int8_kernels.h): stored, through GELU / quick GELU, or
// added to y's current value (y the residual stream).
void linear_packed_int8(const float* x, int64_t M, int64_t K, const Tensor& w, const float* bias, float* y,
                        Int8Kernel kernel = Int8Kernel::kAuto, Int8Then then = Int8Then::kStore);

// One of several products of the same x (linear_packed_int8_many): y [M, w.dim(0)] = x · wᵀ +
// bias, bias may be nullptr.
struct Int8Product {
  const Tensor* w = nullptr;
  const float* bias = nullptr;
  float* y = nullptr;
};

// linear_packed_int8 for each product, x quantised once for all of them: the same values as
// separate calls. The products' columns are split among the tasks as one wide product's.
void linear_packed_int8_many(const float* x, int64_t M, int64_t K, const std::vector<Int8Product>& products,
                             Int8Kernel kernel = Int8Kernel::kAuto, Int8Then then = Int8Then::kStore);

// y[M, N2] += act(x[M, K] · w1ᵀ + b1) · w2ᵀ + b2 (act kGeluErf or kQuickGelu), the same values
// as linear_packed_int8 with `act` into a temporary and then with kAddTo into y, computed per
// block of 64 rows so that the intermediate stays in cache (int8_mlp.cpp). w1 [N1, padded_k(K)
// + 8] and w2 [N2, padded_k(N1) + 8] packed; b1, b2 may be nullptr. Needs have_avx512_vnni().
// Multi-threaded over the row blocks: for balance, give it a few hundred rows or more.
void mlp_packed_int8(const float* x, int64_t M, int64_t K, const Tensor& w1, const float* b1, Int8Then act,
                     const Tensor& w2, const float* b2, float* y);

}  // namespace folio::cpu
