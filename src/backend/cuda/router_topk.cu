// MoE router over logits[T, E]: one warp per row runs warp_softmax_topk (router_select.cuh).
// router_topk copies ids/weights back to the host (one sync); router_topk_dev leaves them.
#include <cmath>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"
#include "backend/cuda/router_select.cuh"

namespace folio::cuda {
namespace {

constexpr int kPerLane = kRouterPerLane;

template <class T>
__global__ void router_kernel(const T* logits, int64_t rows, int E, int k, float scale, bool renorm, int32_t* ids,
                              float* weights) {
  const int64_t row = blockIdx.x * int64_t(blockDim.x / 32) + threadIdx.x / 32;
  if (row >= rows) return;
  const T* lr = logits + row * E;
  warp_softmax_topk([&](int j) { return to_f32(lr[j]); }, E, k, scale, renorm, ids + row * k, weights + row * k);
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
