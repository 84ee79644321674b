// The MoE router's selection, shared by router_topk (logits from a product) and norm_route
// (logits computed in the same kernel): softmax over E logits in fp32, then top-k with ties to
// the lower expert index, weights = probability * scale, optionally divided by their sum.
#pragma once
#include <cmath>

#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {

constexpr int kRouterPerLane = 8;  // E <= 32 * kRouterPerLane

// Run by one whole warp; logit(j) returns logit j (j < E). Lane 0 writes ids[0..k) and
// weights[0..k).
template <class Logit>
__device__ __forceinline__ void warp_softmax_topk(Logit logit, int E, int k, float scale, bool renorm, int32_t* ids,
                                                  float* weights) {
  const int lane = threadIdx.x & 31;
  float v[kRouterPerLane];
  float mx = -INFINITY;
#pragma unroll
  for (int s = 0; s < kRouterPerLane; ++s) {
    const int j = s * 32 + lane;
    v[s] = j < E ? logit(j) : -INFINITY;
    mx = fmaxf(mx, v[s]);
  }
  mx = warp_max(mx);
  float sum = 0.f;
#pragma unroll
  for (int s = 0; s < kRouterPerLane; ++s) {
    const int j = s * 32 + lane;
    v[s] = j < E ? expf(v[s] - mx) : -1.f;  // probabilities are >= 0; -1 marks "not an expert"
    sum += j < E ? v[s] : 0.f;
  }
  const float inv = 1.f / warp_sum(sum);
  for (int r = 0; r < k; ++r) {
    // This lane's best remaining (value, index); lanes hold indices s*32+lane, ascending in s.
    float best = -2.f;
    int best_j = 1 << 30;
#pragma unroll
    for (int s = 0; s < kRouterPerLane; ++s)
      if (v[s] > best) {
        best = v[s];
        best_j = s * 32 + lane;
      }
    warp_argmax(best, best_j);
    if (lane == 0) {
      ids[r] = best_j;
      weights[r] = best * inv * scale;
    }
#pragma unroll
    for (int s = 0; s < kRouterPerLane; ++s)
      if (s * 32 + lane == best_j) v[s] = -2.f;  // taken
  }
  if (renorm && lane == 0) {  // norm_topk_prob: the k weights divided by their sum
    float s = 1e-20f;
    for (int r = 0; r < k; ++r) s += weights[r];
    for (int r = 0; r < k; ++r) weights[r] /= s;
  }
}

}  // namespace folio::cuda
