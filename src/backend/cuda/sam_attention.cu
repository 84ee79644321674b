// Flash attention for SAM's relative-position blocks, with key tiles cut along grid rows.
//
// The generic kernel (attention.cu) loads both bias terms of every logit from shared memory
// after working out the key's grid row and column, which leaves its tensor cores idle most of
// the time. Here a key tile holds RT whole grid rows, each padded to WP = KBK / RT slots, so
//  - a slot's grid column, and so its column bias relw[q][column], is the same in every tile;
//  - the grid row of an 8-key n-tile is a compile-time function of the n-tile.
// A tile's column bias is then one float2 per n-tile and row, read from a per-block table as the
// accumulator's starting value (S = bias/scale + Q·Kᵀ), and its row bias one float per row and
// grid row, applied in the max and in the exponent. Padding slots (columns >= gw, rows >= gh)
// carry -inf in the tables, which masks them without a per-key test.
//
// Block: 128 queries of one (window or view, head), 8 warps of 16 rows. K/V tiles arrive by
// cp.async, double-buffered; fragments come from ldmatrix (.trans for V, stored row-major).
#include <cmath>

#include "backend/cuda/attention_epilogue.cuh"
#include "backend/cuda/cp_async.cuh"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"
#include "backend/cuda/mma.cuh"
#include "backend/cuda/rel_pos_products.cuh"
#include "backend/cuda/sam_attention.h"

namespace folio::cuda {
namespace {

constexpr int kBq = 128, kWarps = 8, kThreads = kWarps * 32;
constexpr float kLog2e = 1.4426950408889634f;

// q/k/v/o of the kernel's element type T (bf16, or f16 for the vision encoder).
struct SamAttnParams {
  const void *q, *k, *v;
  void* o;
  int N, gh, gw;
  int64_t batch;  // elements between views/windows
  int row;        // elements between tokens (H * D)
  float scale_log2, inv_scale;
  const void *rel_h, *rel_w;
  int rel_dt;
};

// 2^x on the special-function unit (ex2.approx, relative error ~2^-22; 2^-inf = 0).
__device__ __forceinline__ float fast_exp2(float x) {
  float y;
  asm("ex2.approx.ftz.f32 %0, %1;\n" : "=f"(y) : "f"(x));
  return y;
}

template <int D, int KBK>
struct Layout {
  static constexpr int LDQ = D + 8;     // 16-bit rows padded by 16 bytes: ldmatrix rows hit distinct banks
  static constexpr int LDW = KBK + 8;   // column table row (floats): float2 reads conflict-free
  static __host__ __device__ int ldh(int gh, int rt) { return ((gh + rt - 1) / rt * rt) | 1; }
  static __host__ __device__ size_t a_bytes(int gh, int rt) {
    const size_t q = size_t(kBq) * LDQ * 2, h = size_t(kBq) * ldh(gh, rt) * 4;
    return ((q > h ? q : h) + 15) / 16 * 16;
  }
  static constexpr size_t kB = size_t(kBq) * LDW * 4;
  static constexpr size_t kStage = size_t(KBK) * LDQ * 2;  // one K or one V tile
  static __host__ __device__ size_t total(int gh, int rt) { return a_bytes(gh, rt) + kB + 4 * kStage; }
};

template <class T, int D, int KBK, int RT>
__global__ void __launch_bounds__(kThreads, 2) sam_attention_kernel(SamAttnParams p) {
  using L = Layout<D, KBK>;
  constexpr int WP = KBK / RT, CH = D / 8, LDQ = L::LDQ, LDW = L::LDW;
  extern __shared__ __align__(16) unsigned char smem[];
  T* Qs = reinterpret_cast<T*>(smem);
  float* relh = reinterpret_cast<float*>(smem);  // after Q is in registers
  float* relw = reinterpret_cast<float*>(smem + L::a_bytes(p.gh, RT));
  T* kv = reinterpret_cast<T*>(smem + L::a_bytes(p.gh, RT) + L::kB);  // [stage][K | V][KBK][LDQ]
  const int ldh = L::ldh(p.gh, RT);

  const int q0 = blockIdx.x * kBq, h = blockIdx.y, b = blockIdx.z;
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31, g = lane >> 2, tig = lane & 3;
  const T* qg = static_cast<const T*>(p.q) + b * p.batch + h * D;
  const T* kg = static_cast<const T*>(p.k) + b * p.batch + h * D;
  const T* vg = static_cast<const T*>(p.v) + b * p.batch + h * D;
  const int n_tiles = (p.gh + RT - 1) / RT;

  // Slot s of tile t holds key (t*RT + s/WP) * gw + s%WP, or zeros where that is padding.
  auto load_tile = [&](int t, int stage) {
    T* Ks = kv + stage * 2 * KBK * LDQ;
    T* Vs = Ks + KBK * LDQ;
    for (int idx = tid; idx < KBK * CH; idx += kThreads) {
      const int s = idx / CH, c = idx % CH, grow = t * RT + s / WP, x = s % WP;
      const bool ok = x < p.gw && grow < p.gh;
      const int64_t off = ok ? int64_t(grow * p.gw + x) * p.row + c * 8 : 0;
      cp_async16(Ks + s * LDQ + c * 8, kg + off, ok);
      cp_async16(Vs + s * LDQ + c * 8, vg + off, ok);
    }
  };

  for (int idx = tid; idx < kBq * CH; idx += kThreads) {
    const int r = idx / CH, c = idx % CH, qi = q0 + r;
    cp_async16(Qs + r * LDQ + c * 8, qg + (qi < p.N ? int64_t(qi) * p.row + c * 8 : 0), qi < p.N);
  }
  cp_async_commit();
  load_tile(0, 0);
  cp_async_commit();
  cp_async_wait<1>();
  __syncthreads();

  // This warp's Q fragments (rows warp*16 .. +16) stay in registers for the whole key loop.
  uint32_t qf[D / 16][4];
#pragma unroll
  for (int kc = 0; kc < D / 16; ++kc) {
    const int mi = lane >> 3;
    ldmatrix_x4(qf[kc], Qs + (warp * 16 + (mi & 1) * 8 + (lane & 7)) * LDQ + kc * 16 + (mi >> 1) * 8);
  }
  __syncthreads();  // Q's region becomes the row table

  // Tables start as 0 for real grid rows/columns and -inf for padding ones.
  for (int idx = tid; idx < kBq * ldh; idx += kThreads) relh[idx] = (idx % ldh) < p.gh ? 0.f : -INFINITY;
  for (int idx = tid; idx < kBq * LDW; idx += kThreads) relw[idx] = (idx % LDW) % WP < p.gw ? 0.f : -INFINITY;
  __syncthreads();

  const int lrow[2] = {warp * 16 + g, warp * 16 + g + 8};
  const int qrow[2] = {q0 + lrow[0], q0 + lrow[1]};
  // T = Q_tile · Rᵀ over all 2g-1 table rows on tensor cores, scattered so that
  // relh[r][c] = q_r · Rh[row(q_r) - c + gh - 1] / scale (relw likewise with columns, copied to
  // each of the tile's RT rows).
  for (int which = 0; which < 2; ++which) {
    int qpos[2];
    bool valid[2];
    for (int ri = 0; ri < 2; ++ri) {
      valid[ri] = qrow[ri] < p.N;
      qpos[ri] = which ? qrow[ri] % p.gw : qrow[ri] / p.gw;
    }
    rel_pos_products<D, T>(qf, which ? p.rel_w : p.rel_h, p.rel_dt, which ? p.gw : p.gh, qpos, valid, lane,
                        [&](int ri, int c, float v) {
                          v *= p.inv_scale;
                          if (which) {
#pragma unroll
                            for (int r = 0; r < RT; ++r) relw[lrow[ri] * LDW + r * WP + c] = v;
                          } else {
                            relh[lrow[ri] * ldh + c] = v;
                          }
                        });
  }
  __syncthreads();

  float o[D / 8][4];
#pragma unroll
  for (int i = 0; i < D / 8; ++i) o[i][0] = o[i][1] = o[i][2] = o[i][3] = 0.f;
  float m[2] = {-INFINITY, -INFINITY}, l[2] = {0.f, 0.f};

  for (int t = 0; t < n_tiles; ++t) {
    if (t + 1 < n_tiles) {
      load_tile(t + 1, (t + 1) & 1);
      cp_async_commit();
      cp_async_wait<1>();
    } else {
      cp_async_wait<0>();
    }
    __syncthreads();
    const T* Ks = kv + (t & 1) * 2 * KBK * LDQ;
    const T* Vs = Ks + KBK * LDQ;

    // S starts at the column bias (divided by the scale), then S += Q·Kᵀ. The row bias is one
    // value per (query row, grid row of the tile): it joins in the max and in the exponent's
    // FFMA, not per logit.
    float s[KBK / 8][4], hb[2][RT];
#pragma unroll
    for (int ri = 0; ri < 2; ++ri) {
#pragma unroll
      for (int nt = 0; nt < KBK / 8; ++nt) {
        const float2 w = *reinterpret_cast<const float2*>(relw + lrow[ri] * LDW + nt * 8 + tig * 2);
        s[nt][2 * ri] = w.x;
        s[nt][2 * ri + 1] = w.y;
      }
#pragma unroll
      for (int r = 0; r < RT; ++r) hb[ri][r] = relh[lrow[ri] * ldh + t * RT + r];
    }
#pragma unroll
    for (int nt = 0; nt < KBK / 8; ++nt) {
#pragma unroll
      for (int kc = 0; kc < D / 16; kc += 2) {
        // Four 8x8 matrices: keys nt*8.., dims kc*16 + {0, 8, 16, 24}; b0/b1 of kc and kc+1.
        uint32_t bk[4];
        if constexpr (D >= 32) {
          ldmatrix_x4(bk, Ks + (nt * 8 + (lane & 7)) * LDQ + kc * 16 + (lane >> 3) * 8);
          mma_16816<T>(s[nt], qf[kc], bk[0], bk[1]);
          mma_16816<T>(s[nt], qf[kc + 1], bk[2], bk[3]);
        } else {
          const T* kb = Ks + (nt * 8 + g) * LDQ + kc * 16 + tig * 2;
          mma_16816<T>(s[nt], qf[kc], ld32(kb), ld32(kb + 8));
        }
      }
    }

    // Per-row max over this tile (pre-scale units, row bias included); the n-tile's grid row
    // r = nt*8 / WP is known at compile time.
    float mx[2] = {-INFINITY, -INFINITY};
#pragma unroll
    for (int r = 0; r < RT; ++r) {
      float gm[2] = {-INFINITY, -INFINITY};
#pragma unroll
      for (int nt = 0; nt < KBK / 8; ++nt)
        if ((nt * 8) / WP == r)
#pragma unroll
          for (int e = 0; e < 4; ++e) gm[e >> 1] = fmaxf(gm[e >> 1], s[nt][e]);
#pragma unroll
      for (int ri = 0; ri < 2; ++ri) mx[ri] = fmaxf(mx[ri], gm[ri] + hb[ri][r]);
    }
    float alpha[2], k[2][RT];
    const float c = p.scale_log2;
#pragma unroll
    for (int ri = 0; ri < 2; ++ri) {
      mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 1));
      mx[ri] = fmaxf(mx[ri], __shfl_xor_sync(0xffffffffu, mx[ri], 2));
      const float mnew = fmaxf(m[ri], mx[ri]);
      const float msafe = mnew == -INFINITY ? 0.f : mnew;  // all masked so far: keep exp2 finite
      alpha[ri] = fast_exp2((m[ri] - msafe) * c);
      m[ri] = mnew;
      l[ri] *= alpha[ri];
#pragma unroll
      for (int r = 0; r < RT; ++r) k[ri][r] = (hb[ri][r] - msafe) * c;
    }
    // p = 2^((s + row bias - max) * scale * log2 e): one FFMA and one ex2 per logit.
#pragma unroll
    for (int nt = 0; nt < KBK / 8; ++nt)
#pragma unroll
      for (int e = 0; e < 4; ++e) {
        const float pe = fast_exp2(fmaf(s[nt][e], c, k[e >> 1][(nt * 8) / WP]));
        s[nt][e] = pe;
        l[e >> 1] += pe;
      }
    scale_rows(o, alpha);
    // O += P·V: two adjacent S n-tiles form one A fragment (16 keys).
#pragma unroll
    for (int kc = 0; kc < KBK / 16; ++kc) {
      uint32_t a[4];
      accumulators_to_a<T>(s, kc, a);
#pragma unroll
      for (int dt = 0; dt < D / 8; dt += 2) {
        // Keys kc*16 + {0..7, 8..15} of dims dt*8.. and (dt+1)*8..: b0/b1 of dt and dt+1.
        uint32_t bv[4];
        const int mi = lane >> 3;
        ldmatrix_x4_trans(bv, Vs + (kc * 16 + (mi & 1) * 8 + (lane & 7)) * LDQ + (dt + (mi >> 1)) * 8);
        mma_16816<T>(o[dt], a, bv[0], bv[1]);
        mma_16816<T>(o[dt + 1], a, bv[2], bv[3]);
      }
    }
    __syncthreads();  // every warp is done with this stage before it is refilled
  }

  store_attention_rows<D>(o, l, static_cast<T*>(p.o) + b * p.batch + h * D, p.row, qrow, p.N, tig);
}

template <class T, int D, int KBK, int RT>
bool launch(CudaContext& ctx, const SamAttnParams& p, int B, int H, const std::string& shapes) {
  const size_t smem = Layout<D, KBK>::total(p.gh, RT);
  if (smem > ctx.max_shared_per_block()) return false;
  auto* kernel = sam_attention_kernel<T, D, KBK, RT>;
  check(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)), "attention",
        "raising the shared-memory limit: " + shapes);
  dim3 grid((p.N + kBq - 1) / kBq, H, B);
  kernel<<<grid, kThreads, smem, ctx.stream()>>>(p);
  check_launch("attention", shapes);
  return true;
}

template <class T, int D>
bool dispatch_tile(CudaContext& ctx, const SamAttnParams& p, int B, int H, const std::string& shapes) {
  // Grid rows padded to a multiple of 8 slots; the tile holds as many whole rows as fit 64 (or 80).
  switch ((p.gw + 7) / 8 * 8) {
    case 8: return launch<T, D, 64, 8>(ctx, p, B, H, shapes);
    case 16: return launch<T, D, 64, 4>(ctx, p, B, H, shapes);
    case 32: return launch<T, D, 64, 2>(ctx, p, B, H, shapes);
    case 64: return launch<T, D, 64, 1>(ctx, p, B, H, shapes);
    case 40: return launch<T, D, 80, 2>(ctx, p, B, H, shapes);
    case 80: return launch<T, D, 80, 1>(ctx, p, B, H, shapes);
    default: return false;
  }
}

}  // namespace

bool sam_attention(CudaContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                   const AttentionSpec& spec, int rel_dt, const std::string& shapes) {
  const int H = spec.heads, D = spec.head_dim, B = int(q.dim(0)), N = int(q.dim(1));
  if ((D != 16 && D != 32 && D != 64) || spec.causal || N != spec.grid_h * spec.grid_w || k.dim(1) != N) return false;
  SamAttnParams p{};
  p.q = q.raw();
  p.k = k.raw();
  p.v = v.raw();
  p.o = out.raw();
  p.N = N;
  p.gh = spec.grid_h;
  p.gw = spec.grid_w;
  p.row = H * D;
  p.batch = int64_t(N) * p.row;
  p.scale_log2 = spec.scale * kLog2e;
  p.inv_scale = 1.f / spec.scale;
  p.rel_h = spec.rel_pos_h.raw();
  p.rel_w = spec.rel_pos_w.raw();
  p.rel_dt = rel_dt;
  // 64: SAM ViT-B; 16 and 32: the narrow test and conformance models, so that they check this kernel.
  const auto by_dim = [&](auto tag) {
    using T = decltype(tag);
    switch (D) {
      case 16: return dispatch_tile<T, 16>(ctx, p, B, H, shapes);
      case 32: return dispatch_tile<T, 32>(ctx, p, B, H, shapes);
      default: return dispatch_tile<T, 64>(ctx, p, B, H, shapes);
    }
  };
  return q.dtype() == DType::kF16 ? by_dim(f16{}) : by_dim(bf16{});
}

}  // namespace folio::cuda
