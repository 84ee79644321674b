// Backend::rms_norm_route in one kernel, one block per row of the fp32 residual:
// 1. the row's RMSNorm in fp32, with the same threads and summation as norm.cu, so xn (rounded
//    to bf16 for the experts) is bit for bit what rms_norm would write;
// 2. the router logits as true fp32 dot products of the normalised row with the bf16 router
//    weights (each warp takes experts warp, warp + 8, ...). cuBLASLt has no fp32 x bf16 product,
//    and rounding the row to bf16 for it is what flips near-tied expert choices;
// 3. softmax + top-k by warp 0 (router_select.cuh), as router_topk_dev.
#include <algorithm>
#include <initializer_list>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"
#include "backend/cuda/gemv_util.cuh"
#include "backend/cuda/router_select.cuh"

namespace folio::cuda {
namespace {

constexpr int kMaxWidth = 8192, kMaxExperts = 32 * kRouterPerLane;

template <class X>
__global__ void norm_route_kernel(const X* h, const void* g, int gdt, float eps, int D, const bf16* router, int E,
                                  int k, float scale, bool renorm, bf16* xn, int32_t* ids, float* weights) {
  extern __shared__ __align__(16) float sm[];
  float* xf = sm;         // [D]
  float* logits = sm + D;  // [E]
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const X* hr = h + row * D;
  float ss = 0.f;
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float d = to_f32(hr[i]);
    ss += d * d;
  }
  const float inv = rsqrtf(block_sum(ss, scratch) / static_cast<float>(D) + eps);
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = to_f32(hr[i]) * inv * load_any(g, gdt, i);
    xf[i] = v;
    xn[row * D + i] = __float2bfloat16_rn(v);
  }
  __syncthreads();
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31, warps = blockDim.x >> 5, chunks = D / 8;
  for (int e = warp; e < E; e += warps) {
    const uint4* wr = reinterpret_cast<const uint4*>(router + int64_t(e) * D);
    float acc = 0.f;
    for (int c = lane; c < chunks; c += 32) {
      const uint4 wv = __ldg(wr + c);
      const __nv_bfloat162* wp = reinterpret_cast<const __nv_bfloat162*>(&wv);
      const float* x8 = xf + c * 8;
#pragma unroll
      for (int j = 0; j < 4; ++j) {
        const float2 wf = __bfloat1622float2(wp[j]);
        acc = fmaf(x8[2 * j], wf.x, acc);
        acc = fmaf(x8[2 * j + 1], wf.y, acc);
      }
    }
    acc = warp_sum(acc);
    if (lane == 0) logits[e] = acc;
  }
  __syncthreads();
  if (warp == 0)
    warp_softmax_topk([&](int j) { return logits[j]; }, E, k, scale, renorm, ids + row * k, weights + row * k);
}

}  // namespace

bool rms_norm_route(CudaContext& ctx, const Tensor& h, const Tensor& norm_w, float eps, const Tensor& router, int k,
                    float scale, bool renormalise, Tensor& xn, Tensor& ids, Tensor& weights) {
  const char* op = "rms_norm_route";
  const int64_t D = h.dim(-1), rows = h.numel() / std::max<int64_t>(D, 1), E = router.dim(0);
  if (router.ndim() != 2 || router.dim(1) != D || router.dtype() != DType::kBF16 || D % 8 != 0 || D > kMaxWidth ||
      E > kMaxExperts || pointer_alignment(router.raw()) < 16 || xn.dtype() != DType::kBF16 ||
      (h.dtype() != DType::kF32 && h.dtype() != DType::kBF16))
    return false;
  for (const Tensor* t : std::initializer_list<const Tensor*>{&h, &norm_w, &router, &xn, &ids, &weights}) require_device(*t, op, "argument");
  const std::string shapes = describe("h", h) + ", " + describe("router", router) + ", k " + std::to_string(k);
  require(norm_w.numel() == D && xn.numel() == h.numel() && k > 0 && k <= E && ids.dtype() == DType::kI32 &&
              weights.dtype() == DType::kF32 && ids.numel() == rows * k && weights.numel() == rows * k,
          op, "norm [D], xn like h, ids I32 and weights F32 [T, k] expected: " + shapes);
  if (rows == 0) return true;
  const int gdt = float_dtype_code(norm_w.dtype(), op, "norm weight");
  const int threads = D >= 1024 ? 256 : 128;  // as norm.cu, so the sum of squares is the same
  const size_t smem = size_t(D + E) * sizeof(float);
  dispatch_act(h, op, "h", [&](auto tag) {
    using X = decltype(tag);
    norm_route_kernel<X><<<unsigned(rows), threads, smem, ctx.stream()>>>(
        h.data<X>(), norm_w.raw(), gdt, eps, int(D), router.data<bf16>(), int(E), k, scale, renormalise,
        xn.data<bf16>(), ids.data<int32_t>(), weights.data<float>());
  });
  check_launch(op, shapes);
  return true;
}

}  // namespace folio::cuda
