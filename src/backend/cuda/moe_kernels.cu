// Data movement around the MoE's grouped GEMMs: rows of x gathered into expert order, and the
// weighted sum of each token's k expert outputs back into token order (fp32 accumulation).
#include "backend/cuda/kernel_util.cuh"
#include "backend/cuda/moe_kernels.h"

namespace folio::cuda {
namespace {

__global__ void gather_tokens_kernel(const bf16* x, const int32_t* token_of_slot, bf16* xs, int64_t slots, int64_t D) {
  // 8 bf16 (16 bytes) per step; D % 8 == 0 is checked by the launcher.
  const int64_t vec = D / 8, n = slots * vec;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t s = e / vec, c = e % vec;
    reinterpret_cast<uint4*>(xs)[s * vec + c] = reinterpret_cast<const uint4*>(x)[token_of_slot[s] * vec + c];
  }
}

// ys in fp32 (the down products' own accumulators, never rounded); y bf16 or fp32.
template <class Y>
__global__ void combine_kernel(const float* ys, const int32_t* slot_of, const float* w, int k, Y* y, int64_t T,
                               int64_t D) {
  const int64_t n = T * D;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = e / D, d = e % D;
    float acc = 0.f;
    for (int j = 0; j < k; ++j) acc += w[t * k + j] * ys[int64_t(slot_of[t * k + j]) * D + d];
    y[e] = from_f32<Y>(acc);
  }
}

}  // namespace

void launch_gather_tokens(cudaStream_t s, const void* x, const int32_t* token_of_slot, void* xs, int64_t slots,
                          int64_t D) {
  if (slots == 0) return;
  gather_tokens_kernel<<<grid_for(slots * D / 8, 256), 256, 0, s>>>(static_cast<const bf16*>(x), token_of_slot,
                                                                     static_cast<bf16*>(xs), slots, D);
}

void launch_combine(cudaStream_t s, const float* ys, const int32_t* slot_of, const float* w, int k, void* y,
                    bool y_f32, int64_t T, int64_t D) {
  if (T == 0) return;
  if (y_f32)
    combine_kernel<float><<<grid_for(T * D, 256), 256, 0, s>>>(ys, slot_of, w, k, static_cast<float*>(y), T, D);
  else
    combine_kernel<bf16><<<grid_for(T * D, 256), 256, 0, s>>>(ys, slot_of, w, k, static_cast<bf16*>(y), T, D);
}

}  // namespace folio::cuda
