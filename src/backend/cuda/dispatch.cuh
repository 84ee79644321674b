// Calls f(T{}) with T = bf16, f16 (the vision encoder's activations) or float matching an
// activation tensor's dtype; other dtypes throw.
#pragma once
#include <string>

#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

template <class F>
void dispatch_act(const Tensor& t, const char* op, const char* name, F&& f) {
  if (t.dtype() == DType::kBF16) {
    f(bf16{});
  } else if (t.dtype() == DType::kF32) {
    f(float{});
  } else if (t.dtype() == DType::kF16) {
    f(f16{});
  } else {
    fail(op, describe(name, t) + ": activations must be BF16, F16 or F32");
  }
}

}  // namespace folio::cuda
