// Decode attention over a paged KV cache (Backend::paged_attention): one query per sequence.
//
// Block (head, row, split): the row's keys [0, seq_len) are cut into `splits` equal chunks
// (the chunk length is computed in the kernel from seq_len, so the grid depends only on the
// batch size and a replayed graph stays valid as sequences grow).
//
// Decode attention is a pure stream over the cache (plain multi-head attention: no key is
// shared between heads), so the kernel is built to keep many bytes in flight: a lane reads 16
// bytes (8 dimensions) of a row, G = D/8 lanes cover one key, a warp covers 32/G keys per load
// and issues kSlots such loads of keys and values before using any of them. Each group of G
// lanes keeps its own online softmax (scores in log2 units, fp32) over the keys it saw; groups
// merge by shuffles at the end, warps through shared memory. With more than one split the
// partial (max, sum, output) of each chunk goes to scratch and a second kernel merges them.
#include <initializer_list>
#include <cmath>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {
namespace {

constexpr int kWarps = 4, kSlots = 4;
constexpr float kLog2e = 1.4426950408889634f;

struct PagedParams {
  const bf16 *q, *k, *v;
  bf16* out;
  const int32_t *block_table, *seq_lens;
  int H, max_blocks, block_size, splits;
  float scale;
  float *part_m, *part_l, *part_o;  // [B, H, splits] and [B, H, splits, D] when splits > 1; m in log2 units
};

__device__ __forceinline__ void unpack8(const uint4& u, float (&r)[8]) {
  const __nv_bfloat162* h = reinterpret_cast<const __nv_bfloat162*>(&u);
#pragma unroll
  for (int i = 0; i < 4; ++i) {
    r[2 * i] = __low2float(h[i]);
    r[2 * i + 1] = __high2float(h[i]);
  }
}

// exp2(a - m) that is 0 for a = -inf, also when m is -inf.
__device__ __forceinline__ float exp2_from(float a, float m) { return a == -INFINITY ? 0.f : exp2f(a - m); }

template <int D>
__global__ void __launch_bounds__(kWarps * 32) paged_decode_kernel(PagedParams p) {
  constexpr int G = D / 8;          // lanes per key
  constexpr int KPL = 32 / G;       // keys per warp-wide load
  constexpr int KPI = KPL * kSlots; // keys per warp iteration
  const int h = blockIdx.x, b = blockIdx.y, split = blockIdx.z;
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int grp = lane / G, sub = lane % G;
  const int W = p.H * D;
  const int len = p.seq_lens[b];
  const int chunk = len > 0 ? (len + p.splits - 1) / p.splits : 0;
  const int j0 = split * chunk, j1 = min(len, j0 + chunk);

  float q[8];
  unpack8(*reinterpret_cast<const uint4*>(p.q + int64_t(b) * W + h * D + sub * 8), q);
#pragma unroll
  for (int i = 0; i < 8; ++i) q[i] *= p.scale * kLog2e;
  const int32_t* table = p.block_table + int64_t(b) * p.max_blocks;
  const int64_t col = int64_t(h) * D + sub * 8;

  float m = -INFINITY, l = 0.f, o[8];
#pragma unroll
  for (int i = 0; i < 8; ++i) o[i] = 0.f;
  for (int j = j0 + warp * KPI; j < j1; j += kWarps * KPI) {
    uint4 kraw[kSlots], vraw[kSlots];
    bool valid[kSlots];
#pragma unroll
    for (int u = 0; u < kSlots; ++u) {
      const int key = j + u * KPL + grp;
      valid[u] = key < j1;
      const int jj = min(key, j1 - 1);  // past the end: a repeat of the last key, masked below
      const int64_t slot = int64_t(table[jj / p.block_size]) * p.block_size + jj % p.block_size;
      kraw[u] = *reinterpret_cast<const uint4*>(p.k + slot * W + col);
      vraw[u] = *reinterpret_cast<const uint4*>(p.v + slot * W + col);
    }
    float s[kSlots], mx = m;
#pragma unroll
    for (int u = 0; u < kSlots; ++u) {
      float kr[8];
      unpack8(kraw[u], kr);
      float d = 0.f;
#pragma unroll
      for (int i = 0; i < 8; ++i) d += q[i] * kr[i];
#pragma unroll
      for (int off = G / 2; off > 0; off >>= 1) d += __shfl_xor_sync(0xffffffffu, d, off);
      s[u] = valid[u] ? d : -INFINITY;
      mx = fmaxf(mx, s[u]);
    }
    const float corr = exp2_from(m, mx);
    l *= corr;
#pragma unroll
    for (int i = 0; i < 8; ++i) o[i] *= corr;
#pragma unroll
    for (int u = 0; u < kSlots; ++u) {
      const float pr = exp2_from(s[u], mx);
      float vr[8];
      unpack8(vraw[u], vr);
      l += pr;
#pragma unroll
      for (int i = 0; i < 8; ++i) o[i] += pr * vr[i];
    }
    m = mx;
  }
  // Merge the key groups of the warp: lanes with the same `sub` hold the same dimensions.
#pragma unroll
  for (int off = G; off < 32; off <<= 1) {
    const float m2 = __shfl_xor_sync(0xffffffffu, m, off), l2 = __shfl_xor_sync(0xffffffffu, l, off);
    const float M = fmaxf(m, m2), f1 = exp2_from(m, M), f2 = exp2_from(m2, M);
    l = l * f1 + l2 * f2;
#pragma unroll
    for (int i = 0; i < 8; ++i) o[i] = o[i] * f1 + __shfl_xor_sync(0xffffffffu, o[i], off) * f2;
    m = M;
  }

  // Merge the warps: each publishes (m, l) and its output row.
  __shared__ float sm_m[kWarps], sm_l[kWarps];
  __shared__ float sm_o[kWarps][D];
  if (lane == 0) {
    sm_m[warp] = m;
    sm_l[warp] = l;
  }
  if (grp == 0) {
#pragma unroll
    for (int i = 0; i < 8; ++i) sm_o[warp][sub * 8 + i] = o[i];
  }
  __syncthreads();
  float M = -INFINITY;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) M = fmaxf(M, sm_m[w]);
  float L = 0.f;
#pragma unroll
  for (int w = 0; w < kWarps; ++w) L += exp2_from(sm_m[w], M) * sm_l[w];
  const int64_t ps = (int64_t(b) * p.H + h) * p.splits + split;
  for (int c = threadIdx.x; c < D; c += kWarps * 32) {
    float acc = 0.f;
#pragma unroll
    for (int w = 0; w < kWarps; ++w) acc += exp2_from(sm_m[w], M) * sm_o[w][c];
    if (p.splits == 1) p.out[int64_t(b) * W + h * D + c] = __float2bfloat16_rn(L > 0.f ? acc / L : 0.f);
    else p.part_o[ps * D + c] = acc;
  }
  if (p.splits > 1 && threadIdx.x == 0) {
    p.part_m[ps] = M;
    p.part_l[ps] = L;
  }
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
    const float f = exp2f(ms - M);
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
