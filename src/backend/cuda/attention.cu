// Flash-attention forward (FlashAttention-2 style) for bf16 (or f16: the vision encoder) q/k/v
// with fp32 softmax statistics.
//
// One block = 64 queries of one (batch, head); 4 warps, each owning 16 query rows. Key/value
// tiles of 64 rows are staged in shared memory (V transposed); S = Q·K^T and O += P·V run on
// tensor cores (mma.sync m16n8k16 bf16/f16 -> f32), and the online softmax works directly on the
// accumulator registers (log2 domain, exp2f). Causal masking skips whole key tiles past the
// block's last visible key. SAM's decomposed relative-position bias is computed per block as
// two small tables (query x key-row, query x key-column) in shared memory and added per logit,
// so the [N, N] bias is never materialised.
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <initializer_list>

#include "backend/cuda/attention_epilogue.cuh"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"
#include "backend/cuda/mma.cuh"
#include "backend/cuda/rel_pos_products.cuh"
#include "backend/cuda/sam_attention.h"

namespace folio::cuda {
namespace {

constexpr int kBq = 64, kBk = 64, kThreads = 128;
constexpr float kLog2e = 1.4426950408889634f;

struct AttnParams {
  const void *q, *k, *v;  // of the kernel's element type T
  void* o;
  int Nq, Nk, H;
  int64_t q_batch, kv_batch;  // elements between batches
  int row;                    // elements between tokens (H * D)
  float scale_log2;
  int causal, causal_offset;  // query i sees keys j <= i + causal_offset
  const void *rel_h, *rel_w;
  int rel_dt, gh, gw;
};

template <class T, int D>
__global__ void __launch_bounds__(kThreads) flash_attention_kernel(AttnParams p) {
  constexpr int LDQ = D + 8;    // padded rows: fragment loads hit distinct banks
  constexpr int LDV = kBk + 8;  // V^T rows
  constexpr int CH = D / 8;     // 16-byte chunks per row
  extern __shared__ __align__(16) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem);
  T* Ks = Qs + kBq * LDQ;
  T* Vt = Ks + kBk * LDQ;
  float* relh = reinterpret_cast<float*>(Vt + D * LDV);  // [kBq][gh | 1], log2 units
  float* relw = relh + kBq * (p.gh | 1);                 // [kBq][gw | 1]

  const int q0 = blockIdx.x * kBq, h = blockIdx.y, b = blockIdx.z;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tig = lane & 3;
  const T* qg = static_cast<const T*>(p.q) + b * p.q_batch + h * D;
  const T* kg = static_cast<const T*>(p.k) + b * p.kv_batch + h * D;
  const T* vg = static_cast<const T*>(p.v) + b * p.kv_batch + h * D;

  for (int idx = tid; idx < kBq * CH; idx += kThreads) {
    const int r = idx / CH, c = idx % CH, qi = q0 + r;
    uint4 val = make_uint4(0, 0, 0, 0);
    if (qi < p.Nq) val = *reinterpret_cast<const uint4*>(qg + int64_t(qi) * p.row + c * 8);
    *reinterpret_cast<uint4*>(Qs + r * LDQ + c * 8) = val;
  }
  __syncthreads();

  // This warp's Q fragments (rows warp*16 .. +16), kept in registers for the whole key loop.
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc) {
    const T* base = Qs + (warp * 16 + g) * LDQ + kc * 16 + tig * 2;
    qf[kc][0] = ld32(base);
    qf[kc][1] = ld32(base + 8 * LDQ);
    qf[kc][2] = ld32(base + 8);
    qf[kc][3] = ld32(base + 8 * LDQ + 8);
  }
  const int qrow[2] = {q0 + warp * 16 + g, q0 + warp * 16 + g + 8};
  const int lrow[2] = {warp * 16 + g, warp * 16 + g + 8};

  const bool rel = p.rel_h != nullptr;
  const int ldh = p.gh | 1, ldw = p.gw | 1;  // odd strides: the 8 rows of a fragment hit distinct banks
  if (rel) {
    // G = Q_tile · R^T over all 2g-1 table rows on tensor cores, then scattered so that
    // relh[r][c] = q_r · Rh[row(q_r) - c + gh - 1] (relw likewise with columns), in log2 units.
    for (int which = 0; which < 2; ++which) {
      const int gdim = which ? p.gw : p.gh, ld = which ? ldw : ldh;
      float* dst = which ? relw : relh;
      int qpos[2];
      bool valid[2];
      for (int ri = 0; ri < 2; ++ri) {
        valid[ri] = qrow[ri] < p.Nq;
        qpos[ri] = which ? qrow[ri] % p.gw : qrow[ri] / p.gw;
      }
      rel_pos_products<D, T>(qf, which ? p.rel_w : p.rel_h, p.rel_dt, gdim, qpos, valid, lane,
                          [&](int ri, int c, float v) { dst[lrow[ri] * ld + c] = v * kLog2e; });
    }
  }

  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

  const float inv_gw = rel ? 1.f / float(p.gw) : 0.f;
  int kv_end = p.Nk;
  if (p.causal) kv_end = min(p.Nk, min(q0 + kBq, p.Nq) - 1 + p.causal_offset + 1);

  for (int k0 = 0; k0 < kv_end; k0 += kBk) {
    __syncthreads();  // everyone is done with the previous K/V tile
    for (int idx = tid; idx < kBk * CH; idx += kThreads) {
      const int r = idx / CH, c = idx % CH, kj = k0 + r;
      uint4 val = make_uint4(0, 0, 0, 0);
      if (kj < p.Nk) val = *reinterpret_cast<const uint4*>(kg + int64_t(kj) * p.row + c * 8);
      *reinterpret_cast<uint4*>(Ks + r * LDQ + c * 8) = val;
    }
    for (int idx = tid; idx < kBk * CH; idx += kThreads) {
      const int r = idx % kBk, c = idx / kBk, kj = k0 + r;  // consecutive threads: consecutive keys
      uint4 val = make_uint4(0, 0, 0, 0);
      if (kj < p.Nk) val = *reinterpret_cast<const uint4*>(vg + int64_t(kj) * p.row + c * 8);
      const T* e = reinterpret_cast<const T*>(&val);
#pragma unroll
      for (int i = 0; i < 8; ++i) Vt[(c * 8 + i) * LDV + r] = e[i];
    }
    __syncthreads();

    float s[kBk / 8][4];
#pragma unroll
    for (int nt = 0; nt < kBk / 8; ++nt) {
      s[nt][0] = s[nt][1] = s[nt][2] = s[nt][3] = 0.f;
#pragma unroll
      for (int kc = 0; kc < D / 16; ++kc) {
        const T* kb = Ks + (nt * 8 + g) * LDQ + kc * 16 + tig * 2;
        mma_16816<T>(s[nt], qf[kc], ld32(kb), ld32(kb + 8));
      }
    }

    // The grid row and column of each key this thread scores (16 per tile, shared by its two
    // query rows): one multiply each instead of an integer division per logit, which made the
    // relative-position kernels bound by integer arithmetic. (kj + 0.5) / gw is never within
    // float rounding of an integer for the grids used here (kj < 2^20).
    int krow[kBk / 8][2], kcol[kBk / 8][2];
    if (rel) {
#pragma unroll
      for (int nt = 0; nt < kBk / 8; ++nt)
#pragma unroll
        for (int c = 0; c < 2; ++c) {
          const int kj = k0 + nt * 8 + tig * 2 + c;
          krow[nt][c] = __float2int_rz((float(kj) + 0.5f) * inv_gw);
          kcol[nt][c] = kj - krow[nt][c] * p.gw;
        }
    }
    // Scale, bias and mask in log2 units; per-row max over this tile.
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int nt = 0; nt < kBk / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const int ri = e >> 1;
        const int kj = k0 + nt * 8 + tig * 2 + (e & 1);
        float x = s[nt][e] * p.scale_log2;
        const bool ok = kj < p.Nk && (!p.causal || kj <= qrow[ri] + p.causal_offset);
        if (ok && rel) x += relh[lrow[ri] * ldh + krow[nt][e & 1]] + relw[lrow[ri] * ldw + kcol[nt][e & 1]];
        x = ok ? x : -INFINITY;
        s[nt][e] = x;
        mx[ri] = fmaxf(mx[ri], x);
      }
    }
    float alpha[2], msafe[2];
#pragma unroll
    for (int ri = 0; ri < 2; ++ri) {
      mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 1));
      mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 2));
      const float mnew = fmaxf(m[ri], mx[ri]);
      msafe[ri] = mnew == -INFINITY ? 0.f : mnew;  // fully masked so far: keep exp2 finite
      alpha[ri] = exp2f(m[ri] - msafe[ri]);
      m[ri] = mnew;
      l[ri] *= alpha[ri];
    }
#pragma unroll
    for (int nt = 0; nt < kBk / 8; ++nt) {
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float pe = exp2f(s[nt][e] - msafe[e >> 1]);
        s[nt][e] = pe;
        l[e >> 1] += pe;
      }
    }
    scale_rows(o, alpha);
    // O += P · V: the S accumulators of two adjacent key n-tiles form one A fragment (k = 16 keys).
#pragma unroll
    for (int kc = 0; kc < kBk / 16; ++kc) {
      uint32_t a[4];
      accumulators_to_a<T>(s, kc, a);
#pragma unroll
      for (int dt = 0; dt < D / 8; ++dt) {
        const T* vb = Vt + (dt * 8 + g) * LDV + kc * 16 + tig * 2;
        mma_16816<T>(o[dt], a, ld32(vb), ld32(vb + 8));
      }
    }
  }

  store_attention_rows<D>(o, l, static_cast<T*>(p.o) + b * p.q_batch + h * D, p.row, qrow, p.Nq, tig);
}

size_t smem_bytes(int D, int gh, int gw) {
  return size_t(kBq + kBk) * (D + 8) * 2 + size_t(D) * (kBk + 8) * 2 + size_t(kBq) * ((gh | 1) + (gw | 1)) * 4;
}

template <class T, int D>
void launch(CudaContext& ctx, const AttnParams& p, int B, const std::string& shapes) {
  const size_t smem = smem_bytes(D, p.gh, p.gw);
  require(smem <= ctx.max_shared_per_block(), "attention",
          "needs " + std::to_string(smem) + " bytes of shared memory (grid too large for the rel-pos tables): " + shapes);
  check(cudaFuncSetAttribute(flash_attention_kernel<T, D>, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)),
        "attention", "raising the shared-memory limit: " + shapes);
  dim3 grid((p.Nq + kBq - 1) / kBq, p.H, B);
  flash_attention_kernel<T, D><<<grid, kThreads, smem, ctx.stream()>>>(p);
  check_launch("attention", shapes);
}

}  // namespace

void attention(CudaContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
               const AttentionSpec& spec) {
  const char* op = "attention";
  require_device(q, op, "q");
  require_device(k, op, "k");
  require_device(v, op, "v");
  require_device(out, op, "out");
  const int H = spec.heads, D = spec.head_dim;
  const std::string shapes = describe("q", q) + ", " + describe("k", k) + ", " + describe("v", v) + ", " +
                             describe("out", out) + ", heads " + std::to_string(H) + ", head_dim " + std::to_string(D) +
                             (spec.causal ? ", causal" : "") + (spec.rel_pos_h.defined() ? ", rel-pos" : "");
  const DType dt = q.dtype();
  require(is_16bit_float(dt) && k.dtype() == dt && v.dtype() == dt && out.dtype() == dt, op,
          "q, k, v, out must be all BF16 or all F16: " + shapes);
  require(q.ndim() == 3 && k.ndim() == 3 && v.ndim() == 3 && out.shape() == q.shape() && k.shape() == v.shape(), op,
          "expected q/out [B, Nq, H*D], k/v [B, Nk, H*D]: " + shapes);
  require(H > 0 && q.dim(2) == int64_t(H) * D && k.dim(2) == q.dim(2) && k.dim(0) == q.dim(0), op,
          "last dim must be heads*head_dim and batches equal: " + shapes);
  // Any multiple of 16 works in the kernel (one m16n8k16 step per 16 dims); these are the
  // instantiated ones (16: the conformance model's width).
  require(D == 16 || D == 32 || D == 64 || D == 128, op, "head_dim must be 16, 32, 64 or 128: " + shapes);
  const int B = int(q.dim(0)), Nq = int(q.dim(1)), Nk = int(k.dim(1));
  require(!spec.causal || Nq <= Nk, op, "causal attention needs Nq <= Nk: " + shapes);
  const Tensor* all[] = {&q, &k, &v, &out};
  for (const Tensor* t : all)
    require(reinterpret_cast<uintptr_t>(t->raw()) % 16 == 0, op, "tensors must be 16-byte aligned: " + shapes);
  if (B == 0 || Nq == 0 || H == 0) return;
  require(Nk > 0, op, "no keys: " + shapes);
  require(B <= 65535 && H <= 65535, op, "batch and heads must be <= 65535: " + shapes);

  AttnParams p{};
  p.q = q.raw();
  p.k = k.raw();
  p.v = v.raw();
  p.o = out.raw();
  p.Nq = Nq;
  p.Nk = Nk;
  p.H = H;
  p.row = H * D;
  p.q_batch = int64_t(Nq) * p.row;
  p.kv_batch = int64_t(Nk) * p.row;
  p.scale_log2 = spec.scale * kLog2e;
  p.causal = spec.causal ? 1 : 0;
  p.causal_offset = Nk - Nq;
  if (spec.rel_pos_h.defined()) {
    require_device(spec.rel_pos_h, op, "rel_pos_h");
    require_device(spec.rel_pos_w, op, "rel_pos_w");
    const int gh = spec.grid_h, gw = spec.grid_w;
    require(gh > 0 && gw > 0 && Nq == gh * gw && Nk == Nq && !spec.causal, op,
            "rel-pos needs Nq == Nk == grid_h*grid_w (" + std::to_string(gh) + "x" + std::to_string(gw) + "): " + shapes);
    require(spec.rel_pos_h.numel() == int64_t(2 * gh - 1) * D && spec.rel_pos_w.numel() == int64_t(2 * gw - 1) * D &&
                spec.rel_pos_h.dtype() == spec.rel_pos_w.dtype(), op,
            "rel-pos tables must be [2*grid-1, head_dim] of one dtype: " + describe("rel_pos_h", spec.rel_pos_h) +
                ", " + describe("rel_pos_w", spec.rel_pos_w) + ", " + shapes);
    p.rel_h = spec.rel_pos_h.raw();
    p.rel_w = spec.rel_pos_w.raw();
    p.rel_dt = float_dtype_code(spec.rel_pos_h.dtype(), op, "rel_pos_h");
    p.gh = gh;
    p.gw = gw;
    // The row-tiled kernel covers SAM's shapes; FOLIO_CUDA_SAM_ATTN=0 keeps this one for A/B runs.
    static const bool row_tiled = [] {
      const char* e = std::getenv("FOLIO_CUDA_SAM_ATTN");
      return !(e && std::strcmp(e, "0") == 0);
    }();
    if (row_tiled && sam_attention(ctx, q, k, v, out, spec, p.rel_dt, shapes)) return;
  }
  const auto by_dim = [&](auto tag) {
    using T = decltype(tag);
    switch (D) {
      case 16: launch<T, 16>(ctx, p, B, shapes); break;
      case 32: launch<T, 32>(ctx, p, B, shapes); break;
      case 64: launch<T, 64>(ctx, p, B, shapes); break;
      default: launch<T, 128>(ctx, p, B, shapes); break;
    }
  };
  if (dt == DType::kF16)
    by_dim(f16{});
  else
    by_dim(bf16{});
}

}  // namespace folio::cuda
