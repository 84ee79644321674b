// Load-time int8 packing of linear weights for the compute-bound products of the vision
// encoder on the CPU (AVX512-VNNI): symmetric per-row int8 like weights/quantize.h, but laid
// out in 16-row groups for the kernel (core/packed_int8.h), with each row's scale and the sum
// of its codes stored beside it. Done once at load so no product re-packs its weight.
#pragma once
#include "core/tensor.h"

namespace folio {

// w [N, K] (f32/bf16/f16), N a multiple of 16 -> DType::kI8Packed [N, padded_k(K) + 8].
// Throws kInternal for other shapes (the caller decides which matrices to pack).
Tensor pack_rows_int8(const Tensor& w);

// True when pack_rows_int8 accepts a matrix of this shape.
bool can_pack_rows_int8(const Tensor& w);

}  // namespace folio
