// Products for a few rows (decode steps of small batches), M <= 8: y[r] = x[r]·Wᵀ.
// cuBLASLt's tiles are built for many rows; at M = 1..8 its kernels take several microseconds
// for a 1280 x 1280 weight that streams in about one. Here one warp computes one output column
// for all rows (gemv_util.cuh). Three entry points:
// - linear_small_rows: y = x·Wᵀ (+ bias), x bf16 from global memory;
// - linear_add_small: h += x·Wᵀ into an fp32 residual (the add of the block fused in);
// - rms_norm_linear_small: every block first normalises the M rows of the fp32 residual into
//   shared memory (rounded to bf16, exactly as rms_norm into bf16 would), then walks columns
//   of up to kMaxSegments weights that share K (q, k and v; gate and up; lm_head) with a grid
//   stride, so the normalisation is paid once per block, not once per column.
#include <algorithm>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/gemv_util.cuh"
#include "backend/cuda/pdl.cuh"

namespace folio::cuda {
namespace {

constexpr int kMaxRows = 8, kWarps = 4, kNormWarps = 8, kMaxSegments = 4;
constexpr int kNormSmemBytes = 48 * 1024;  // the default dynamic shared memory limit

template <int M, class Y, bool kAccumulate>
__global__ void __launch_bounds__(kWarps * 32) gemv_kernel(const bf16* __restrict__ x, const bf16* __restrict__ w,
                                                            const void* bias, int bdt, Y* __restrict__ y, int N, int K) {
  const int n = blockIdx.x * kWarps + (threadIdx.x >> 5), lane = threadIdx.x & 31;
  if (n < N) prefetch_rows(w + int64_t(n) * K, int64_t(K) * sizeof(bf16), lane);
  wait_for_inputs();
  if (n >= N) return;
  float acc[M];
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = 0.f;
  lane_dots<M>(reinterpret_cast<const uint4*>(w + int64_t(n) * K), K / 8, lane,
               [&](int r, int c) { return __ldg(reinterpret_cast<const uint4*>(x + int64_t(r) * K) + c); }, acc);
#pragma unroll
  for (int r = 0; r < M; ++r) acc[r] = warp_sum(acc[r]);
  if (lane == 0) {
    const float b = bias ? load_any(bias, bdt, n) : 0.f;
#pragma unroll
    for (int r = 0; r < M; ++r) {
      Y& out = y[int64_t(r) * N + n];
      out = from_f32<Y>(kAccumulate ? to_f32(out) + acc[r] : acc[r] + b);
    }
  }
}

// Columns [begin[s], begin[s+1]) of the concatenated outputs belong to weight s; total =
// begin[count]. Indexed with constants only, so the table stays in parameter space.
struct Segments {
  const bf16* w[kMaxSegments];
  void* y[kMaxSegments];
  int begin[kMaxSegments + 1];
  int count, total;
};

template <int M, class X, class Y>
__global__ void __launch_bounds__(kNormWarps * 32) norm_gemv_kernel(const X* __restrict__ x, const void* g, int gdt,
                                                                     float eps, int K, Segments seg) {
  extern __shared__ __align__(16) unsigned char smem[];
  bf16* xs = reinterpret_cast<bf16*>(smem);  // [M, K]
  __shared__ float scratch[32];
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  {  // this warp's first column: its weight row streams towards L2 while the rows are normalised
    const int n = blockIdx.x * kNormWarps + warp;
    const bf16* wfirst = seg.w[0];
    int first = seg.begin[0];
#pragma unroll
    for (int s = 1; s < kMaxSegments; ++s)
      if (s < seg.count && n >= seg.begin[s]) {
        wfirst = seg.w[s];
        first = seg.begin[s];
      }
    if (n < seg.total) prefetch_rows(wfirst + int64_t(n - first) * K, int64_t(K) * sizeof(bf16), lane);
  }
  wait_for_inputs();
  for (int r = 0; r < M; ++r) {  // the whole block per row: its loads are all in flight at once
    const X* xr = x + int64_t(r) * K;
    const float inv = block_rms_inv(xr, K, eps, scratch);
    for (int i = threadIdx.x; i < K; i += blockDim.x)
      xs[r * K + i] = __float2bfloat16_rn(to_f32(xr[i]) * inv * load_any(g, gdt, i));
  }
  __syncthreads();
  for (int n = blockIdx.x * kNormWarps + warp; n < seg.total; n += gridDim.x * kNormWarps) {
    // The segment of column n.
    const bf16* wseg = seg.w[0];
    Y* y = static_cast<Y*>(seg.y[0]);
    int first = seg.begin[0], end = seg.begin[1];
#pragma unroll
    for (int s = 1; s < kMaxSegments; ++s)
      if (s < seg.count && n >= seg.begin[s]) {
        wseg = seg.w[s];
        y = static_cast<Y*>(seg.y[s]);
        first = seg.begin[s];
        end = seg.begin[s + 1];
      }
    const int col = n - first, width = end - first;
    float acc[M];
#pragma unroll
    for (int r = 0; r < M; ++r) acc[r] = 0.f;
    lane_dots<M>(reinterpret_cast<const uint4*>(wseg + int64_t(col) * K), K / 8, lane,
                 [&](int r, int c) { return reinterpret_cast<const uint4*>(xs + r * K)[c]; }, acc);
#pragma unroll
    for (int r = 0; r < M; ++r) acc[r] = warp_sum(acc[r]);
    if (lane == 0) {
#pragma unroll
      for (int r = 0; r < M; ++r) y[int64_t(r) * width + col] = from_f32<Y>(acc[r]);
    }
  }
}

template <class Y, bool kAccumulate>
void launch_rows(CudaContext& ctx, int M, const bf16* x, const bf16* w, const void* bias, int bdt, Y* y, int N, int K) {
  const dim3 grid((N + kWarps - 1) / kWarps), block(kWarps * 32);
  switch (M) {
#define FOLIO_GEMV_CASE(R) \
  case R: launch_pdl(gemv_kernel<R, Y, kAccumulate>, grid, block, 0, ctx.stream(), x, w, bias, bdt, y, N, K); break;
    FOLIO_GEMV_CASE(1) FOLIO_GEMV_CASE(2) FOLIO_GEMV_CASE(3) FOLIO_GEMV_CASE(4)
    FOLIO_GEMV_CASE(5) FOLIO_GEMV_CASE(6) FOLIO_GEMV_CASE(7) FOLIO_GEMV_CASE(8)
#undef FOLIO_GEMV_CASE
  }
}

template <class X, class Y>
void launch_norm_rows(CudaContext& ctx, int M, const X* x, const void* g, int gdt, float eps, int K,
                      const Segments& seg) {
  const unsigned blocks = unsigned(std::min<int64_t>((seg.total + kNormWarps - 1) / kNormWarps, 4LL * ctx.sm_count()));
  const size_t smem = size_t(M) * K * sizeof(bf16);
  switch (M) {
#define FOLIO_NORM_GEMV_CASE(R) \
  case R: launch_pdl(norm_gemv_kernel<R, X, Y>, dim3(blocks), dim3(kNormWarps * 32), smem, ctx.stream(), x, g, gdt, eps, K, seg); break;
    FOLIO_NORM_GEMV_CASE(1) FOLIO_NORM_GEMV_CASE(2) FOLIO_NORM_GEMV_CASE(3) FOLIO_NORM_GEMV_CASE(4)
    FOLIO_NORM_GEMV_CASE(5) FOLIO_NORM_GEMV_CASE(6) FOLIO_NORM_GEMV_CASE(7) FOLIO_NORM_GEMV_CASE(8)
#undef FOLIO_NORM_GEMV_CASE
  }
}

bool aligned16(const Tensor& t) { return pointer_alignment(t.raw()) >= 16; }

}  // namespace

bool linear_small_rows(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) {
  const int64_t K = w.dim(1), N = w.dim(0), M = x.numel() / K;
  const bool fits = M >= 1 && M <= kMaxRows && K % 8 == 0 && x.dtype() == DType::kBF16 && w.dtype() == DType::kBF16 &&
                    (y.dtype() == DType::kBF16 || y.dtype() == DType::kF32) && aligned16(x) && aligned16(w) &&
                    N < (1LL << 31);
  if (!fits) return false;
  const int bdt = bias ? float_dtype_code(bias->dtype(), "linear", "bias") : 0;
  const void* bp = bias ? bias->raw() : nullptr;
  if (y.dtype() == DType::kBF16)
    launch_rows<bf16, false>(ctx, int(M), x.data<bf16>(), w.data<bf16>(), bp, bdt, y.data<bf16>(), int(N), int(K));
  else
    launch_rows<float, false>(ctx, int(M), x.data<bf16>(), w.data<bf16>(), bp, bdt, y.data<float>(), int(N), int(K));
  check_launch("linear", describe("x", x) + ", " + describe("w", w));
  return true;
}

bool linear_add_small(CudaContext& ctx, const Tensor& x, const Tensor& w, Tensor& h) {
  if (w.ndim() != 2 || x.dim(-1) != w.dim(1) || h.dim(-1) != w.dim(0)) return false;
  const int64_t K = w.dim(1), N = w.dim(0), M = x.numel() / K;
  const bool fits = M >= 1 && M <= kMaxRows && h.numel() == M * N && K % 8 == 0 && x.dtype() == DType::kBF16 &&
                    w.dtype() == DType::kBF16 && h.dtype() == DType::kF32 && aligned16(x) && aligned16(w) &&
                    N < (1LL << 31);
  if (!fits) return false;
  launch_rows<float, true>(ctx, int(M), x.data<bf16>(), w.data<bf16>(), nullptr, 0, h.data<float>(), int(N), int(K));
  check_launch("linear_add", describe("x", x) + ", " + describe("w", w));
  return true;
}

bool rms_norm_linear_small(CudaContext& ctx, const Tensor& x, const Tensor& g, float eps,
                           const std::vector<const Tensor*>& w, const std::vector<Tensor*>& y) {
  const int64_t K = x.dim(-1), M = x.numel() / std::max<int64_t>(K, 1);
  if (w.empty() || w.size() != y.size() || w.size() > size_t(kMaxSegments) || M < 1 || M > kMaxRows || K % 8 != 0 ||
      M * K * int64_t(sizeof(bf16)) > kNormSmemBytes || g.numel() != K ||
      (x.dtype() != DType::kF32 && x.dtype() != DType::kBF16))
    return false;
  const DType ydt = y[0]->dtype();
  if (ydt != DType::kBF16 && ydt != DType::kF32) return false;
  Segments seg{};
  seg.count = static_cast<int>(w.size());
  int64_t total = 0;
  for (size_t s = 0; s < w.size(); ++s) {
    const Tensor& ws = *w[s];
    const Tensor& ys = *y[s];
    if (ws.ndim() != 2 || ws.dim(1) != K || ws.dtype() != DType::kBF16 || !aligned16(ws) || ys.dtype() != ydt ||
        ys.numel() != M * ws.dim(0))
      return false;
    seg.w[s] = ws.data<bf16>();
    seg.y[s] = ys.raw();
    seg.begin[s] = static_cast<int>(total);
    total += ws.dim(0);
  }
  if (total >= (1LL << 31)) return false;
  seg.begin[seg.count] = seg.total = static_cast<int>(total);
  const int gdt = float_dtype_code(g.dtype(), "rms_norm_linear", "norm weight");
  auto run = [&](auto xtag, auto ytag) {
    using X = decltype(xtag);
    using Y = decltype(ytag);
    launch_norm_rows<X, Y>(ctx, int(M), x.data<X>(), g.raw(), gdt, eps, int(K), seg);
  };
  if (x.dtype() == DType::kF32) {
    if (ydt == DType::kBF16) run(float{}, bf16{});
    else run(float{}, float{});
  } else {
    if (ydt == DType::kBF16) run(bf16{}, bf16{});
    else run(bf16{}, float{});
  }
  check_launch("rms_norm_linear", describe("x", x) + ", " + std::to_string(w.size()) + " weights");
  return true;
}

}  // namespace folio::cuda
