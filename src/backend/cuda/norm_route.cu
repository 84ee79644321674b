// Backend::rms_norm_route in two kernels:
// 1. norm_logits, block (row, group of 8 experts): the row's RMSNorm in fp32 with the same
//    threads and summation as norm.cu (so xn, rounded to bf16 for the experts and written by
//    the first group, is bit for bit what rms_norm would write), then one warp per expert takes
//    a true fp32 dot product of the normalised row with the bf16 router row. cuBLASLt has no
//    fp32 x bf16 product, and rounding the row to bf16 for it is what flips near-tied experts.
//    Many blocks per row keep the router's rows streaming in parallel; one block per row
//    walked them one warp at a time (28 us per layer at one row).
// 2. softmax + top-k per row: router_topk_dev's kernel (router_select.cuh).
#include <algorithm>
#include <initializer_list>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"
#include "backend/cuda/gemv_util.cuh"
#include "backend/cuda/pdl.cuh"
#include "backend/cuda/router_select.cuh"

namespace folio::cuda {
namespace {

constexpr int kMaxWidth = 8192, kMaxExperts = 32 * kRouterPerLane, kWarps = 8, kThreads = kWarps * 32;

template <class X>
__global__ void __launch_bounds__(kThreads) norm_logits_kernel(const X* h, const void* g, int gdt, float eps, int D,
                                                                const bf16* router, int E, bf16* xn, float* logits) {
  extern __shared__ __align__(16) float xf[];  // [D]
  __shared__ float scratch[32];
  const int64_t row = blockIdx.x;
  const int e = blockIdx.y * kWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31, chunks = D / 8;
  if (e < E) prefetch_rows(router + int64_t(e) * D, int64_t(D) * sizeof(bf16), lane);
  wait_for_inputs();
  const X* hr = h + row * D;
  const float inv = block_rms_inv(hr, D, eps, scratch);
  for (int i = threadIdx.x; i < D; i += blockDim.x) {
    const float v = to_f32(hr[i]) * inv * load_any(g, gdt, i);
    xf[i] = v;
    if (blockIdx.y == 0) xn[row * D + i] = __float2bfloat16_rn(v);
  }
  __syncthreads();
  if (e >= E) return;
  const uint4* wr = reinterpret_cast<const uint4*>(router + int64_t(e) * D);
  float acc = 0.f;
#pragma unroll 4
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
  if (lane == 0) logits[row * E + e] = acc;
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
  // 256 threads as norm.cu takes for D >= 1024 (the only widths where it matters: bit-equal xn).
  Tensor logits = ctx.alloc_tensor({rows, E}, DType::kF32, op);
  dispatch_act(h, op, "h", [&](auto tag) {
    using X = decltype(tag);
    check(launch_pdl(norm_logits_kernel<X>, dim3(unsigned(rows), unsigned((E + kWarps - 1) / kWarps)), dim3(kThreads),
                     D * sizeof(float), ctx.stream(), h.data<X>(), norm_w.raw(), gdt, eps, int(D), router.data<bf16>(),
                     int(E), xn.data<bf16>(), logits.data<float>()),
          op, shapes);
  });
  check_launch(op, shapes);
  router_topk_dev(ctx, logits, k, scale, renormalise, ids, weights);
  return true;
}

}  // namespace folio::cuda
