// Load-time int8 quantisation of linear weights for memory-bound decoding on the CPU.
// Layout of a quantised weight [N, K]: a tensor of dtype I8 and shape [N, K + 4] whose row n
// holds K signed bytes q followed by the f32 scale s (little endian), w[n][k] ≈ s * q[k]
// (symmetric, per output row, s = max|w[n]| / 127). Keeping the scale in the row keeps
// row views (q/k/v slices of a fused weight) valid.
#pragma once
#include "core/tensor.h"

namespace folio {

constexpr int64_t kInt8RowExtra = 4;

Tensor quantize_rows_int8(const Tensor& w);
inline int64_t int8_row_length(const Tensor& q) { return q.dim(1) - kInt8RowExtra; }

}  // namespace folio
