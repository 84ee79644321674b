// Decode attention over a paged KV cache (Backend::paged_attention): one query per sequence.
//
// Block (head, row, split): the row's keys [0, seq_len) are cut into `splits` equal chunks
// (the chunk length is computed in the kernel from seq_len, so the grid depends only on the
// batch size and a replayed graph stays valid as sequences grow). Four warps walk the chunk's
// keys four at a time; each lane holds D/32 dimensions of q, of the running output and of
// every key/value row it reads, so a warp reads whole 2*D-byte rows, coalesced. Online softmax
// in fp32 per warp, merged across warps in shared memory. With more than one split the
// partial (max, sum, output) of each chunk goes to scratch and a second kernel merges them.
#include <initializer_list>
#include <cmath>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {
namespace {

constexpr int kWarps = 4, kUnroll = 4;

struct PagedParams {
  const bf16 *q, *k, *v;
  bf16* out;
  const int32_t *block_table, *seq_lens;
  int H, max_blocks, block_size, splits;
  float scale;
  float *part_m, *part_l, *part_o;  // [B, H, splits] and [B, H, splits, D] when splits > 1
};

template <int D>
__device__ __forceinline__ void load_row(const bf16* p, float (&r)[D / 32]) {
  constexpr int E = D / 32;
  if constexpr (E == 4) {
    const uint2 u = *reinterpret_cast<const uint2*>(p);
    const __nv_bfloat162 a = *reinterpret_cast<const __nv_bfloat162*>(&u.x), b = *reinterpret_cast<const __nv_bfloat162*>(&u.y);
    r[0] = __low2float(a);
    r[1] = __high2float(a);
    r[2] = __low2float(b);
    r[3] = __high2float(b);
  } else if constexpr (E == 2) {
    const __nv_bfloat162 a = *reinterpret_cast<const __nv_bfloat162*>(p);
    r[0] = __low2float(a);
    r[1] = __high2float(a);
  } else {
#pragma unroll
    for (int i = 0; i < E; ++i) r[i] = __bfloat162float(p[i]);
  }
}

template <int D>
__global__ void __launch_bounds__(kWarps * 32) paged_decode_kernel(PagedParams p) {
  constexpr int E = D / 32;
  const int h = blockIdx.x, b = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int W = p.H * D;
  const int len = p.seq_lens[b];
  const int chunk = len > 0 ? (len + p.splits - 1) / p.splits : 0;
  const int j0 = split * chunk, j1 = min(len, j0 + chunk);

  float q[E];
  load_row<D>(p.q + int64_t(b) * W + h * D + lane * E, q);
#pragma unroll
  for (int i = 0; i < E; ++i) q[i] *= p.scale;
  const int32_t* table = p.block_table + int64_t(b) * p.max_blocks;

  float m = -INFINITY, l = 0.f, o[E];
#pragma unroll
  for (int i = 0; i < E; ++i) o[i] = 0.f;
  for (int j = j0 + warp * kUnroll; j < j1; j += kWarps * kUnroll) {
    float kr[kUnroll][E], s[kUnroll];
    int64_t base[kUnroll];
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      const int jj = min(j + u, j1 - 1);  // past the end: a repeat of the last key, masked below
      const int64_t slot = int64_t(table[jj / p.block_size]) * p.block_size + jj % p.block_size;
      base[u] = slot * W + h * D + lane * E;
      load_row<D>(p.k + base[u], kr[u]);
    }
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      float d = 0.f;
#pragma unroll
      for (int i = 0; i < E; ++i) d += q[i] * kr[u][i];
      s[u] = j + u < j1 ? warp_sum(d) : -INFINITY;
    }
    float mx = m;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) mx = fmaxf(mx, s[u]);
    const float corr = __expf(m - mx);
    l *= corr;
#pragma unroll
    for (int i = 0; i < E; ++i) o[i] *= corr;
#pragma unroll
    for (int u = 0; u < kUnroll; ++u) {
      if (j + u >= j1) continue;
      const float pr = __expf(s[u] - mx);
      l += pr;
      float vr[E];
      load_row<D>(p.v + base[u], vr);
#pragma unroll
      for (int i = 0; i < E; ++i) o[i] += pr * vr[i];
    }
    m = mx;
  }

  // Merge the warps: each publishes (m, l) and its output slice.
  __shared__ float sm_m[kWarps], sm_l[kWarps];
  __shared__ float sm_o[kWarps][D];
  if (lane == 0) {
    sm_m[warp] = m;
    sm_l[warp] = l;
  }
#pragma unroll
  for (int i = 0; i < E; ++i) sm_o[warp][lane * E + i] = o[i];
  __syncthreads();
  if (warp != 0) return;
  float M = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_m[w]);
  float L = 0.f, acc[E];
#pragma unroll
  for (int i = 0; i < E; ++i) acc[i] = 0.f;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) {
    const float f = sm_m[w] == -INFINITY ? 0.f : __expf(sm_m[w] - M);
    L += f * sm_l[w];
#pragma unroll
    for (int i = 0; i < E; ++i) acc[i] += f * sm_o[w][lane * E + i];
  }
  if (p.splits == 1) {
    const float inv = L > 0.f ? 1.f / L : 0.f;
    bf16* dst = p.out + int64_t(b) * W + h * D + lane * E;
#pragma unroll
    for (int i = 0; i < E; ++i) dst[i] = __float2bfloat16_rn(acc[i] * inv);
    return;
  }
  const int64_t ps = (int64_t(b) * p.H + h) * p.splits + split;
  if (lane == 0) {
    p.part_m[ps] = M;
    p.part_l[ps] = L;
  }
#pragma unroll
  for (int i = 0; i < E; ++i) p.part_o[ps * D + lane * E + i] = acc[i];
}

template <int D>
__global__ void paged_merge_kernel(PagedParams p) {
  const int h = blockIdx.x, b = blockIdx.y, c = threadIdx.x;  // D threads
  const int64_t base = (int64_t(b) * p.H + h) * p.splits;
  float M = -INFINITY;
  for (int s = 0; s < p.splits; ++s) M = fmaxf(M, p.part_m[base + s]);
  float L = 0.f, acc = 0.f;
  for (int s = 0; s < p.splits; ++s) {
    const float ms = p.part_m[base + s];
    if (ms == -INFINITY) continue;
    const float f = __expf(ms - M);
    L += f * p.part_l[base + s];
    acc += f * p.part_o[(base + s) * D + c];
  }
  p.out[int64_t(b) * p.H * D + h * D + c] = __float2bfloat16_rn(L > 0.f ? acc / L : 0.f);
}

template <int D>
void launch(CudaContext& ctx, PagedParams& p, int B) {
  paged_decode_kernel<D><<<dim3(p.H, B, p.splits), kWarps * 32, 0, ctx.stream()>>>(p);
  if (p.splits > 1) paged_merge_kernel<D><<<dim3(p.H, B), D, 0, ctx.stream()>>>(p);
}

}  // namespace

void paged_attention(CudaContext& ctx, const Tensor& q, const Tensor& k_pool, const Tensor& v_pool,
                     const Tensor& block_table, const Tensor& seq_lens, int block_size, const AttentionSpec& spec,
                     Tensor& out) {
  const char* op = "paged_attention";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&q, &k_pool, &v_pool, &block_table, &seq_lens, &out}) require_device(*t, op, "argument");
  const int H = spec.heads, D = spec.head_dim;
  const int64_t W = int64_t(H) * D, B = q.numel() / std::max<int64_t>(W, 1);
  const std::string shapes = describe("q", q) + ", " + describe("k_pool", k_pool) + ", " +
                             describe("block_table", block_table) + ", " + describe("seq_lens", seq_lens);
  require(q.dim(-1) == W && out.numel() == q.numel() && k_pool.dim(-1) == W && v_pool.numel() == k_pool.numel(), op,
          "q/out [B, H*D] and pools [slots, H*D] expected: " + shapes);
  require(q.dtype() == DType::kBF16 && k_pool.dtype() == DType::kBF16 && v_pool.dtype() == DType::kBF16 &&
              out.dtype() == DType::kBF16,
          op, "BF16 q, pools and out expected: " + shapes);
  require(block_table.dtype() == DType::kI32 && seq_lens.dtype() == DType::kI32 && seq_lens.numel() == B &&
              block_table.numel() % std::max<int64_t>(B, 1) == 0 && block_size > 0,
          op, "I32 block_table [B, max_blocks] and seq_lens [B] expected: " + shapes);
  require(D == 32 || D == 64 || D == 128, op, "head_dim must be 32, 64 or 128: " + shapes);
  if (B == 0) return;
  PagedParams p{};
  p.q = q.data<bf16>();
  p.k = k_pool.data<bf16>();
  p.v = v_pool.data<bf16>();
  p.out = out.data<bf16>();
  p.block_table = block_table.data<int32_t>();
  p.seq_lens = seq_lens.data<int32_t>();
  p.H = H;
  p.max_blocks = static_cast<int>(block_table.numel() / B);
  p.block_size = block_size;
  p.scale = spec.scale;
  // Enough blocks to cover the GPU twice over when the batch alone does not.
  const int64_t base_blocks = B * H, want = 2LL * ctx.sm_count();
  p.splits = static_cast<int>(std::min<int64_t>(16, std::max<int64_t>(1, (want + base_blocks - 1) / base_blocks)));
  DeviceScratch pm, pl, po;
  if (p.splits > 1) {
    const int64_t n = B * H * p.splits;
    pm = ctx.scratch(n * sizeof(float), op);
    pl = ctx.scratch(n * sizeof(float), op);
    po = ctx.scratch(n * D * sizeof(float), op);
    p.part_m = pm.as<float>();
    p.part_l = pl.as<float>();
    p.part_o = po.as<float>();
  }
  if (D == 128) launch<128>(ctx, p, int(B));
  else if (D == 64) launch<64>(ctx, p, int(B));
  else launch<32>(ctx, p, int(B));
  check_launch(op, shapes);
}

}  // namespace folio::cuda
