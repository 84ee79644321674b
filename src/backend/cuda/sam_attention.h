// SAM's relative-position attention with key tiles cut along grid rows (sam_attention.cu).
#pragma once
#include <string>

#include "backend/backend.h"
#include "backend/cuda/cuda_context.h"

namespace folio::cuda {

// Runs attention() for a rel-pos case (q/k/v/out already validated, Nq == Nk == grid_h*grid_w)
// and returns true, or returns false (nothing queued) for head dims and grid widths it has no
// variant for; rel_dt is the tables' dtype code.
bool sam_attention(CudaContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                   const AttentionSpec& spec, int rel_dt, const std::string& shapes);

}  // namespace folio::cuda
