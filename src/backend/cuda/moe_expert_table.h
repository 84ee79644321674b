// The experts' weight addresses as device arrays, for kernels that pick an expert per block or
// per warp (moe_routed.cu, moe_small.cu). Built once per expert list and kept for the process
// (a few KB per model; the model's weights outlive the kernels that read them).
#pragma once
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_context.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

struct ExpertPtrs {
  const bf16* const* gate;  // [E] device pointers
  const bf16* const* up;
  const bf16* const* down;
};

// Thread-safe; the first call for a list uploads its table.
ExpertPtrs expert_pointers(CudaContext& ctx, const std::vector<ExpertWeights>& experts, const char* op);

}  // namespace folio::cuda
