// Backend::moe_add for a few rows (decode steps of small batches, T <= kMaxRows): the routed
// experts, the shared experts and the residual add in two kernels. At one row the grouped
// products of moe_routed.cu spend most of their time in tiles built for 32 rows and in split-K
// reductions; the work here is a few dot products per weight row, which is what a warp per
// output column does best (gemv_util.cuh).
// 1. gate_up: warp (pair, j) computes silu(x·gate[j]) * (x·up[j]) for one (row, expert) pair
//    (blockIdx.y < T*k) or for a row's shared MLP (the last T values of blockIdx.y), rounded
//    to bf16 as the products' input.
// 2. down: block (c, row), one warp per task: each of the row's k experts (act_j ·
//    down_{e_j}[c], times its router weight) and each I-wide part of the shared MLP's down
//    row; the block sums the warps' results in a fixed order and adds them to the fp32
//    residual h[row, c]. One block owns each output element: no atomics, the same result on
//    every run, and every weight row of the element is streaming at the same time.
#include <algorithm>
#include <initializer_list>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/gemv_util.cuh"
#include "backend/cuda/pdl.cuh"
#include "backend/cuda/moe_expert_table.h"

namespace folio::cuda {
namespace {

constexpr int kMaxRows = 8, kWarps = 4, kDownWarps = 8;

__global__ void __launch_bounds__(kWarps * 32)
    moe_small_gate_up_kernel(const bf16* __restrict__ x, int D, const int32_t* __restrict__ ids, int k, int routed_pairs,
                             ExpertPtrs w, int I, const bf16* shared_gate, const bf16* shared_up, int Is, bf16* act,
                             bf16* act_shared) {
  const int p = blockIdx.y, j = blockIdx.x * kWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  wait_for_inputs();  // the experts come from the router: nothing to prefetch before
  const bool routed = p < routed_pairs;
  const int row = routed ? p / k : p - routed_pairs, width = routed ? I : Is;
  if (j >= width) return;
  const bf16* gate = routed ? w.gate[ids[p]] : shared_gate;
  const bf16* up = routed ? w.up[ids[p]] : shared_up;
  const uint4* xr = reinterpret_cast<const uint4*>(x + int64_t(row) * D);
  float g = 0.f, u = 0.f;
  lane_dots_pair(reinterpret_cast<const uint4*>(gate + int64_t(j) * D), reinterpret_cast<const uint4*>(up + int64_t(j) * D),
                 D / 8, lane, [&](int c) { return __ldg(xr + c); }, g, u);
  g = warp_sum(g);
  u = warp_sum(u);
  if (lane == 0) {
    bf16* out = routed ? act + int64_t(p) * I : act_shared + int64_t(row) * Is;
    out[j] = __float2bfloat16_rn(g / (1.f + __expf(-g)) * u);
  }
}

__global__ void __launch_bounds__(kDownWarps * 32)
    moe_small_down_kernel(const bf16* __restrict__ act, const bf16* __restrict__ act_shared,
                          const int32_t* __restrict__ ids, const float* __restrict__ rw, int k, ExpertPtrs w, int I,
                          const bf16* shared_down, int Is, int D, float* h) {
  const int c = blockIdx.x, row = blockIdx.y, warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  wait_for_inputs();
  const int tasks = k + (shared_down ? (Is + I - 1) / I : 0);
  float part = 0.f;
  for (int t = warp; t < tasks; t += kDownWarps) {
    const bf16 *wrow, *arow;
    int width;
    float scale = 1.f;
    if (t < k) {
      const int p = row * k + t;
      wrow = w.down[ids[p]] + int64_t(c) * I;
      arow = act + int64_t(p) * I;
      width = I;
      scale = rw[p];
    } else {  // part t - k of the shared MLP's down row
      const int off = (t - k) * I;
      wrow = shared_down + int64_t(c) * Is + off;
      arow = act_shared + int64_t(row) * Is + off;
      width = min(I, Is - off);
    }
    const uint4* a4 = reinterpret_cast<const uint4*>(arow);
    float dot[1] = {0.f};
    lane_dots<1>(reinterpret_cast<const uint4*>(wrow), width / 8, lane, [&](int, int q) { return a4[q]; }, dot);
    part = fmaf(scale, dot[0], part);
  }
  part = warp_sum(part);
  __shared__ float parts[kDownWarps];
  if (lane == 0) parts[warp] = part;
  __syncthreads();
  if (threadIdx.x == 0) {
    float total = 0.f;
    for (int i = 0; i < kDownWarps; ++i) total += parts[i];
    h[int64_t(row) * D + c] += total;
  }
}

bool bf16_aligned(const Tensor& t) { return t.dtype() == DType::kBF16 && pointer_alignment(t.raw()) >= 16; }

}  // namespace

bool moe_add_small(CudaContext& ctx, const Tensor& xn, const Tensor& ids, const Tensor& weights, int k,
                   const std::vector<ExpertWeights>& experts, const ExpertWeights& shared, Tensor& h) {
  const char* op = "moe_add";
  const int64_t D = xn.dim(-1), T_ = xn.numel() / std::max<int64_t>(D, 1);
  if (experts.empty() || T_ < 1 || T_ > kMaxRows || k < 1 || !bf16_aligned(xn) || h.dtype() != DType::kF32 ||
      h.numel() != xn.numel() || ids.dtype() != DType::kI32 || weights.dtype() != DType::kF32 ||
      ids.numel() != T_ * k || weights.numel() != T_ * k || D % 8 != 0)
    return false;
  const int64_t I = experts[0].gate.dim(0);
  for (const ExpertWeights& e : experts)
    if (!bf16_aligned(e.gate) || !bf16_aligned(e.up) || !bf16_aligned(e.down) || e.gate.dim(0) != I ||
        e.gate.dim(1) != D || e.up.dim(0) != I || e.down.dim(0) != D || e.down.dim(1) != I)
      return false;
  const bool has_shared = shared.gate.defined();
  const int64_t Is = has_shared ? shared.gate.dim(0) : 0;
  if (has_shared && (!bf16_aligned(shared.gate) || !bf16_aligned(shared.up) || !bf16_aligned(shared.down) ||
                     shared.gate.dim(1) != D || shared.up.dim(0) != Is || shared.down.dim(0) != D ||
                     shared.down.dim(1) != Is || Is % 8 != 0))
    return false;
  if (I % 8 != 0) return false;
  for (const Tensor* t : std::initializer_list<const Tensor*>{&xn, &ids, &weights, &h}) require_device(*t, op, "argument");
  const std::string shapes = describe("xn", xn) + ", " + describe("ids", ids) + ", " +
                             std::to_string(experts.size()) + " experts";
  const ExpertPtrs ptrs = expert_pointers(ctx, experts, op);
  const int pairs = static_cast<int>(T_ * k);
  DeviceScratch act = ctx.scratch(size_t(pairs) * I * sizeof(bf16), op);
  DeviceScratch act_shared = ctx.scratch(std::max<size_t>(1, size_t(T_ * Is)) * sizeof(bf16), op);
  const int64_t widest = std::max(I, Is);
  check(launch_pdl(moe_small_gate_up_kernel,
                   dim3(unsigned((widest + kWarps - 1) / kWarps), unsigned(pairs + (has_shared ? T_ : 0))),
                   dim3(kWarps * 32), 0, ctx.stream(), xn.data<bf16>(), int(D), ids.data<int32_t>(), k, pairs, ptrs,
                   int(I), has_shared ? shared.gate.data<bf16>() : nullptr,
                   has_shared ? shared.up.data<bf16>() : nullptr, int(Is), act.as<bf16>(), act_shared.as<bf16>()),
        op, shapes);
  check(launch_pdl(moe_small_down_kernel, dim3(unsigned(D), unsigned(T_)), dim3(kDownWarps * 32), 0, ctx.stream(),
                   act.as<bf16>(), act_shared.as<bf16>(), ids.data<int32_t>(), weights.data<float>(), k, ptrs, int(I),
                   has_shared ? shared.down.data<bf16>() : nullptr, int(Is), int(D), h.data<float>()),
        op, shapes);
  check_launch(op, shapes);
  return true;
}

}  // namespace folio::cuda
