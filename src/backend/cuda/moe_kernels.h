// Launchers for moe_kernels.cu (no checks here; moe.cpp validates and checks the launch).
#pragma once
#include <cuda_runtime.h>

#include <cstdint>

namespace folio::cuda {

// xs[s] = x[token_of_slot[s]] for bf16 rows of D elements (D % 8 == 0).
void launch_gather_tokens(cudaStream_t s, const void* x, const int32_t* token_of_slot, void* xs, int64_t slots,
                          int64_t D);
// y[t] = sum_j w[t*k+j] * ys[slot_of[t*k+j]]  (ys fp32 [slots, D]; y [T, D] fp32 when y_f32,
// else bf16; fp32 sum).
void launch_combine(cudaStream_t s, const float* ys, const int32_t* slot_of, const float* w, int k, void* y,
                    bool y_f32, int64_t T, int64_t D);

}  // namespace folio::cuda
