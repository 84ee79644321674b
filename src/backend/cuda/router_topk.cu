// MoE router: per row of logits[T, E], softmax in fp32 then top-k (ties to the lower expert
// index), weights = prob * scale (not renormalised). One warp per row; each lane keeps up to
// kPerLane logits in registers (E <= 256). ids/weights are copied back to the host (one sync).
#include <cmath>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

constexpr int kPerLane = 8;  // E <= 32 * kPerLane

template <class T>
__global__ void router_kernel(const T* logits, int64_t rows, int E, int k, float scale, bool renorm, int32_t* ids,
                              float* weights) {
  const int lane = threadIdx.x & 31;
  const int64_t row = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;
  const T* lr = logits + row * E;
  float v[kPerLane];
  float mx = -INFINITY;
#pragma unroll
  for (int s = 0; s < kPerLane; ++s) {
    const int j = s * 32 + lane;
    v[s] = j < E ? to_f32(lr[j]) : -INFINITY;
    mx = fmaxf(mx, v[s]);
  }
  mx = warp_max(mx);
  float sum = 0.f;
#pragma unroll
  for (int s = 0; s < kPerLane; ++s) {
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
    for (int s = 0; s < kPerLane; ++s)
      if (v[s] > best) {
        best = v[s];
        best_j = s * 32 + lane;
      }
    for (int o = 16; o > 0; o >>= 1) {
      const float ob = __shfl_xor_sync(0xffffffffu, best, o);
      const int oj = __shfl_xor_sync(0xffffffffu, best_j, o);
      if (ob > best || (ob == best && oj < best_j)) {
        best = ob;
        best_j = oj;
      }
    }
    if (lane == 0) {
      ids[row * k + r] = best_j;
      weights[row * k + r] = best * inv * scale;
    }
#pragma unroll
    for (int s = 0; s < kPerLane; ++s)
      if (s * 32 + lane == best_j) v[s] = -2.f;  // taken
  }
  if (renorm && lane == 0) {  // norm_topk_prob: the k weights divided by their sum
    float s = 1e-20f;
    for (int r = 0; r < k; ++r) s += weights[row * k + r];
    for (int r = 0; r < k; ++r) weights[row * k + r] /= s;
  }
}

}  // namespace

void router_topk(CudaContext& ctx, const Tensor& logits, int k, float scale, std::vector<int32_t>& ids,
                 std::vector<float>& weights) {
  const char* op = "router_topk";
  require_device(logits, op, "logits");
  const int64_t E = logits.dim(-1);
  const std::string shapes = describe("logits", logits) + ", k " + std::to_string(k);
  require(E > 0 && E <= 32 * kPerLane && k > 0 && k <= E, op, "need 0 < k <= E <= 256: " + shapes);
  const int64_t rows = logits.numel() / E;
  ids.assign(rows * k, 0);
  weights.assign(rows * k, 0.f);
  if (rows == 0) return;
  DeviceScratch d_ids = ctx.scratch(rows * k * sizeof(int32_t), op);
  DeviceScratch d_w = ctx.scratch(rows * k * sizeof(float), op);
  constexpr int kWarps = 4;
  const unsigned blocks = static_cast<unsigned>((rows + kWarps - 1) / kWarps);
  dispatch_act(logits, op, "logits", [&](auto tag) {
    using T = decltype(tag);
    router_kernel<T><<<blocks, 32 * kWarps, 0, ctx.stream()>>>(logits.data<T>(), rows, int(E), k, scale, false,
                                                               d_ids.as<int32_t>(), d_w.as<float>());
  });
  check_launch(op, shapes);
  check(cudaMemcpyAsync(ids.data(), d_ids.get(), ids.size() * sizeof(int32_t), cudaMemcpyDeviceToHost, ctx.stream()),
        op, shapes);
  ctx.download(weights.data(), d_w.get(), weights.size() * sizeof(float), op);
}

void router_topk_dev(CudaContext& ctx, const Tensor& logits, int k, float scale, bool renormalise, Tensor& ids,
                     Tensor& weights) {
  const char* op = "router_topk_dev";
  require_device(logits, op, "logits");
  require_device(ids, op, "ids");
  require_device(weights, op, "weights");
  const int64_t E = logits.dim(-1), rows = logits.numel() / std::max<int64_t>(E, 1);
  const std::string shapes = describe("logits", logits) + ", " + describe("ids", ids) + ", k " + std::to_string(k);
  require(E > 0 && E <= 32 * kPerLane && k > 0 && k <= E, op, "need 0 < k <= E <= 256: " + shapes);
  require(ids.dtype() == DType::kI32 && weights.dtype() == DType::kF32 && ids.numel() == rows * k &&
              weights.numel() == rows * k,
          op, "ids I32 [T, k] and weights F32 [T, k] expected: " + shapes);
  if (rows == 0) return;
  constexpr int kWarps = 4;
  const unsigned blocks = static_cast<unsigned>((rows + kWarps - 1) / kWarps);
  dispatch_act(logits, op, "logits", [&](auto tag) {
    using T = decltype(tag);
    router_kernel<T><<<blocks, 32 * kWarps, 0, ctx.stream()>>>(logits.data<T>(), rows, int(E), k, scale, renormalise,
                                                               ids.data<int32_t>(), weights.data<float>());
  });
  check_launch(op, shapes);
}

}  // namespace folio::cuda
