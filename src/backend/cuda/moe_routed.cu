// MoE experts with the routing left on the device (Backend::moe_experts_dev), so a decode step
// needs no host round trip and can be captured in a CUDA graph.
//
// 1. moe_sort: one block counts the (token, slot) pairs per expert and lists them expert by
//    expert (order[], offsets[E+1]).
// 2. moe_gate_up: a grouped product over experts. Block (e, n-tile, m-tile) takes up to 32 of
//    expert e's pairs (blocks past the expert's count return at once, which keeps the grid
//    fixed for graphs), multiplies their rows of x by 64 rows of gate and of up on tensor
//    cores and writes silu(gate) * up for them, stored in sorted order.
// 3. moe_down: the same over down, scaled by the router weight, stored per pair in fp32.
// 4. moe_combine: y[t] = sum over t's k pairs, in slot order (deterministic).
// Few pairs (small decode batches) would leave most SMs idle while each busy block walks all
// of K one tile at a time, so the products are then split over K (split_k) and the partial
// sums reduced in fp32 (moe_silu_reduce, and moe_combine for down).
// Both products stream expert weights, so their K loops are pipelined: kStages tiles of A and B
// are loaded with cp.async ahead of the tile being multiplied.
// Expert weights must be BF16; their addresses are collected once per expert list and kept.
#include <algorithm>
#include <cmath>
#include <map>
#include <mutex>
#include <vector>

#include "backend/cuda/cp_async.cuh"
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"
#include "backend/cuda/mma.cuh"
#include "backend/cuda/moe_expert_table.h"

namespace folio::cuda {
namespace {

// Rows per block: 16 * MT (MT = 2 for decode-sized batches; 4 when experts average enough rows
// that reading each weight tile once for 64 of them beats two 32-row tiles).
constexpr int kTn = 64, kTk = 32, kThreads = 128, kStages = 3;
constexpr int kLd = kTk + 8;  // padded smem rows (bank spread for the fragment loads)

__global__ void moe_sort_kernel(const int32_t* ids, int pairs, int E, int32_t* offsets, int32_t* order) {
  extern __shared__ int32_t sm[];
  int32_t* count = sm;       // [E]
  int32_t* cursor = sm + E;  // [E]
  for (int e = threadIdx.x; e < E; e += blockDim.x) count[e] = 0;
  __syncthreads();
  for (int p = threadIdx.x; p < pairs; p += blockDim.x) atomicAdd(&count[ids[p]], 1);
  __syncthreads();
  if (threadIdx.x == 0) {
    int run = 0;
    for (int e = 0; e < E; ++e) {
      offsets[e] = run;
      cursor[e] = run;
      run += count[e];
    }
    offsets[E] = run;
  }
  __syncthreads();
  // Order inside an expert's segment does not matter: every pair's result is stored by pair.
  for (int p = threadIdx.x; p < pairs; p += blockDim.x) order[atomicAdd(&cursor[ids[p]], 1)] = p;
}

// The chunks (16 bytes) of a [ROWS x kTk] tile of a row-major bf16 matrix that this thread
// copies at every k step: source rows are looked up once per block (row_of(r): the source row
// of tile row r, or -1 for a zero row), so the K loop issues its copies without re-reading the
// pair order or dividing per chunk.
template <int ROWS>
struct TileChunks {
  static constexpr int kPer = ROWS * (kTk / 8) / kThreads;  // ROWS is a multiple of 32
  const bf16* src[kPer];  // row start + the chunk's column, or nullptr
  int dst[kPer];          // element offset in a stage
  int col[kPer];          // the chunk's column in the K tile
};

template <int ROWS, class RowOf>
__device__ __forceinline__ TileChunks<ROWS> tile_chunks(const bf16* base, int64_t ld, RowOf row_of) {
  TileChunks<ROWS> t;
#pragma unroll
  for (int j = 0; j < TileChunks<ROWS>::kPer; ++j) {
    const int c = threadIdx.x + j * kThreads, r = c / (kTk / 8), kc = (c % (kTk / 8)) * 8;
    const int64_t sr = row_of(r);
    t.src[j] = sr >= 0 ? base + sr * ld + kc : nullptr;
    t.dst[j] = r * kLd + kc;
    t.col[j] = kc;
  }
  return t;
}

// Starts loading the K tile at k0 into a stage (cp.async); zeros for missing rows and past K.
template <int ROWS>
__device__ __forceinline__ void load_tile_async(bf16* stage, const TileChunks<ROWS>& t, const bf16* any, int K, int k0) {
#pragma unroll
  for (int j = 0; j < TileChunks<ROWS>::kPer; ++j) {
    const bool valid = t.src[j] != nullptr && k0 + t.col[j] < K;
    cp_async16(stage + t.dst[j], valid ? t.src[j] + k0 : any, valid);
  }
}

// The K loop of both products, pipelined: load(stage, k0) starts the cp.async copies of the K
// tile at k0 into a stage, mma(stage) multiplies a stage that has arrived; kStages - 1 tiles are
// in flight ahead of the one being multiplied.
template <class Load, class Mma>
__device__ __forceinline__ void pipelined_k_loop(int k_begin, int k_end, Load load, Mma mma) {
  const int tiles = k_end > k_begin ? (k_end - k_begin + kTk - 1) / kTk : 0;
  auto issue = [&](int tile) {
    if (tile < tiles) load(tile % kStages, k_begin + tile * kTk);
    cp_async_commit();  // an empty group past the end keeps the wait count uniform
  };
  for (int tile = 0; tile < kStages - 1; ++tile) issue(tile);
  for (int tile = 0; tile < tiles; ++tile) {
    cp_async_wait<kStages - 2>();
    __syncthreads();  // this tile is in smem for everyone, and the stage about to be refilled is free
    issue(tile + kStages - 1);
    mma(tile % kStages);
  }
}

// acc[mi][ni] += A(16 * MT rows) x B(16 of this warp's 64 columns) over one kTk slice in smem;
// fragments by ldmatrix (rows of kLd = 40 bf16: the 8 rows of a matrix hit distinct banks).
template <int MT>
__device__ __forceinline__ void mma_tile(const bf16* As, const bf16* Bs, float (&acc)[MT][2][4]) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, mi8 = lane >> 3, r8 = lane & 7;
#pragma unroll
  for (int kk = 0; kk < kTk; kk += 16) {
    uint32_t a[MT][4], b[4];
#pragma unroll
    for (int mi = 0; mi < MT; ++mi)
      ldmatrix_x4(a[mi], As + (mi * 16 + (mi8 & 1) * 8 + r8) * kLd + kk + (mi8 >> 1) * 8);
    // Columns warp*16 + {0..7, 8..15}, k kk + {0..7, 8..15}: b0/b1 of ni = 0 then of ni = 1.
    ldmatrix_x4(b, Bs + (warp * 16 + (mi8 >> 1) * 8 + r8) * kLd + kk + (mi8 & 1) * 8);
#pragma unroll
    for (int ni = 0; ni < 2; ++ni)
#pragma unroll
      for (int mi = 0; mi < MT; ++mi) mma_16816(acc[mi][ni], a[mi], b[2 * ni], b[2 * ni + 1]);
  }
}

// act[pos, n] = silu(x[token]·gate[e][n]) * (x[token]·up[e][n]) for expert e's sorted pairs.
// With splits > 1 the block covers K slice blockIdx.z % splits and writes raw fp32 partial
// sums (gate then up) to part[split][pos][2I] instead; moe_silu_reduce finishes them.
template <int MT>
__global__ void __launch_bounds__(kThreads) moe_gate_up_kernel(const bf16* x, int D, int I, int k, ExpertPtrs w,
                                                                const int32_t* offsets, const int32_t* order,
                                                                int splits, int kchunk, int pairs, bf16* act,
                                                                float* part) {
  constexpr int kTm = 16 * MT;
  const int e = blockIdx.x, n0 = blockIdx.y * kTn, m0 = (blockIdx.z / splits) * kTm, split = blockIdx.z % splits;
  const int begin = offsets[e], count = offsets[e + 1] - begin;
  if (m0 >= count) return;
  __shared__ __align__(16) bf16 As[kStages][kTm * kLd];
  __shared__ __align__(16) bf16 Gs[kStages][kTn * kLd];
  __shared__ __align__(16) bf16 Us[kStages][kTn * kLd];
  const bf16* gate = w.gate[e];
  const bf16* up = w.up[e];
  float ag[MT][2][4] = {}, au[MT][2][4] = {};
  auto b_row = [&](int r) -> int64_t { return n0 + r < I ? n0 + r : -1; };
  const auto a_src = tile_chunks<kTm>(x, D, [&](int r) -> int64_t { return m0 + r < count ? order[begin + m0 + r] / k : -1; });
  const auto g_src = tile_chunks<kTn>(gate, D, b_row), u_src = tile_chunks<kTn>(up, D, b_row);
  pipelined_k_loop(
      split * kchunk, min(D, (split + 1) * kchunk),
      [&](int st, int k0) {
        load_tile_async(As[st], a_src, x, D, k0);
        load_tile_async(Gs[st], g_src, gate, D, k0);
        load_tile_async(Us[st], u_src, up, D, k0);
      },
      [&](int st) {
        mma_tile(As[st], Gs[st], ag);
        mma_tile(As[st], Us[st], au);
      });
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int ni = 0; ni < 2; ++ni)
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int r = m0 + mi * 16 + g + h * 8, n = n0 + warp * 16 + ni * 8 + t * 2;
        if (r >= count || n >= I) continue;
        if (splits > 1) {
          float* dst = part + (int64_t(split) * pairs + begin + r) * 2 * I + n;
          dst[0] = ag[mi][ni][h * 2];
          dst[I] = au[mi][ni][h * 2];
          if (n + 1 < I) {
            dst[1] = ag[mi][ni][h * 2 + 1];
            dst[I + 1] = au[mi][ni][h * 2 + 1];
          }
          continue;
        }
        float out[2];
#pragma unroll
        for (int j = 0; j < 2; ++j) {
          const float gv = ag[mi][ni][h * 2 + j], uv = au[mi][ni][h * 2 + j];
          out[j] = gv / (1.f + __expf(-gv)) * uv;
        }
        bf16* dst = act + int64_t(begin + r) * I + n;
        if (n + 1 < I) {
          *reinterpret_cast<__nv_bfloat162*>(dst) = __floats2bfloat162_rn(out[0], out[1]);
        } else {
          dst[0] = __float2bfloat16_rn(out[0]);
        }
      }
}

// act[pos, n] = silu(sum of the gate partials) * (sum of the up partials).
__global__ void moe_silu_reduce_kernel(const float* part, int splits, int pairs, int I, bf16* act) {
  const int64_t n = int64_t(pairs) * I;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t pos = i / I, c = i % I;
    float g = 0.f, u = 0.f;
    for (int s = 0; s < splits; ++s) {
      const float* row = part + (int64_t(s) * pairs + pos) * 2 * I;
      g += row[c];
      u += row[I + c];
    }
    act[i] = __float2bfloat16_rn(g / (1.f + __expf(-g)) * u);
  }
}

// part[split][pair, n] = weight[pair] * act[pos]·down[e][n] over K slice `split` (fp32).
template <int MT>
__global__ void __launch_bounds__(kThreads) moe_down_kernel(const bf16* act, int D, int I, ExpertPtrs w,
                                                             const int32_t* offsets, const int32_t* order,
                                                             const float* weights, int splits, int kchunk, int pairs,
                                                             float* part) {
  constexpr int kTm = 16 * MT;
  const int e = blockIdx.x, n0 = blockIdx.y * kTn, m0 = (blockIdx.z / splits) * kTm, split = blockIdx.z % splits;
  const int begin = offsets[e], count = offsets[e + 1] - begin;
  if (m0 >= count) return;
  __shared__ __align__(16) bf16 As[kStages][kTm * kLd];
  __shared__ __align__(16) bf16 Bs[kStages][kTn * kLd];
  const bf16* down = w.down[e];
  float acc[MT][2][4] = {};
  const auto a_src = tile_chunks<kTm>(act, I, [&](int r) -> int64_t { return m0 + r < count ? begin + m0 + r : -1; });
  const auto b_src = tile_chunks<kTn>(down, I, [&](int r) -> int64_t { return n0 + r < D ? n0 + r : -1; });
  pipelined_k_loop(
      split * kchunk, min(I, (split + 1) * kchunk),
      [&](int st, int k0) {
        load_tile_async(As[st], a_src, act, I, k0);
        load_tile_async(Bs[st], b_src, down, I, k0);
      },
      [&](int st) { mma_tile(As[st], Bs[st], acc); });
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5, g = lane >> 2, t = lane & 3;
#pragma unroll
  for (int mi = 0; mi < MT; ++mi)
#pragma unroll
    for (int h = 0; h < 2; ++h) {
      const int r = m0 + mi * 16 + g + h * 8;
      if (r >= count) continue;
      const int pair = order[begin + r];
      const float wt = weights[pair];
#pragma unroll
      for (int ni = 0; ni < 2; ++ni) {
        const int n = n0 + warp * 16 + ni * 8 + t * 2;
        float* dst = part + (int64_t(split) * pairs + pair) * D + n;
        if (n < D) dst[0] = wt * acc[mi][ni][h * 2];
        if (n + 1 < D) dst[1] = wt * acc[mi][ni][h * 2 + 1];
      }
    }
}

template <class T>
__global__ void moe_combine_kernel(const float* part, int splits, int64_t T_, int D, int k, T* y) {
  const int64_t n = T_ * D, per_split = T_ * k * D;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / D, c = i % D;
    float s = 0.f;
    for (int sp = 0; sp < splits; ++sp)
      for (int j = 0; j < k; ++j) s += part[sp * per_split + (t * k + j) * D + c];
    y[i] = from_f32<T>(s);
  }
}

// K slices per block row: enough blocks with work to give every SM about four, when few
// pairs (a decode step of a small batch) would leave most of the GPU idle. Slices are whole
// kTk steps.
struct SplitK {
  int splits, chunk;
};
SplitK split_k(int busy_blocks, int K, int sms) {
  int s = std::max(1, std::min(8, (4 * sms + busy_blocks - 1) / std::max(busy_blocks, 1)));
  s = std::min(s, (K + kTk - 1) / kTk);
  const int chunk = ((K + s - 1) / s + kTk - 1) / kTk * kTk;
  return {(K + chunk - 1) / chunk, chunk};
}

// Device arrays of the experts' weight addresses, built once per expert list (the model's
// weights live as long as the backend). Keyed by every address in the list: a list freed and
// another allocated at the same first address (tests; models loaded one after another) must
// not find the old table.
class ExpertTables {
 public:
  ExpertPtrs get(CudaContext& ctx, const std::vector<ExpertWeights>& experts, const char* op) {
    std::vector<const void*> ptrs;
    for (int which = 0; which < 3; ++which)
      for (const ExpertWeights& x : experts) ptrs.push_back(which == 0 ? x.gate.raw() : which == 1 ? x.up.raw() : x.down.raw());
    std::lock_guard<std::mutex> lock(mu_);
    auto it = tables_.find(ptrs);
    if (it != tables_.end()) return view(it->second, experts.size());
    void* dev = nullptr;
    check(cudaMalloc(&dev, ptrs.size() * sizeof(void*)), op, "expert address table");
    check(cudaMemcpy(dev, ptrs.data(), ptrs.size() * sizeof(void*), cudaMemcpyHostToDevice), op, "expert address table");
    tables_[ptrs] = dev;
    return view(dev, experts.size());
  }

 private:
  static ExpertPtrs view(void* dev, size_t E) {
    auto p = static_cast<const bf16* const*>(dev);
    return {p, p + E, p + 2 * E};
  }
  std::mutex mu_;
  std::map<std::vector<const void*>, void*> tables_;  // kept for the process: a few KB per list
};

}  // namespace

ExpertPtrs expert_pointers(CudaContext& ctx, const std::vector<ExpertWeights>& experts, const char* op) {
  static ExpertTables tables;
  return tables.get(ctx, experts, op);
}

namespace {

// gate/up (+ silu) and down over the sorted pairs with 16 * MT-row tiles; returns the fp32
// partial sums of down (down_splits K slices) for moe_combine.
template <int MT>
DeviceScratch expert_products(CudaContext& ctx, const Tensor& x, int k, const ExpertPtrs& ptrs,
                              const DeviceScratch& offsets, const DeviceScratch& order, const Tensor& weights,
                              int pairs, int64_t T_, int64_t D, int I, int E, DeviceScratch& act, int& down_splits,
                              const std::string& shapes) {
  const char* op = "moe_experts_dev";
  constexpr int kTm = 16 * MT;
  // An expert takes each token at most once, so T rows is the most any expert can get.
  const int m_tiles = static_cast<int>((T_ + kTm - 1) / kTm);
  const int busy_m = std::max(1, std::min(pairs, E) * ((pairs / std::max(1, std::min(pairs, E)) + kTm - 1) / kTm));
  const int n_up = (I + kTn - 1) / kTn, n_down = static_cast<int>((D + kTn - 1) / kTn);
  const SplitK su = split_k(busy_m * n_up, int(D), ctx.sm_count()), sd = split_k(busy_m * n_down, I, ctx.sm_count());
  DeviceScratch part_up;
  if (su.splits > 1) part_up = ctx.scratch(size_t(su.splits) * pairs * 2 * I * sizeof(float), op);
  moe_gate_up_kernel<MT><<<dim3(E, n_up, m_tiles * su.splits), kThreads, 0, ctx.stream()>>>(
      x.data<bf16>(), int(D), I, k, ptrs, offsets.as<int32_t>(), order.as<int32_t>(), su.splits, su.chunk, pairs,
      act.as<bf16>(), part_up.as<float>());
  check_launch(op, shapes);
  if (su.splits > 1) {
    moe_silu_reduce_kernel<<<grid_for(int64_t(pairs) * I, 256), 256, 0, ctx.stream()>>>(part_up.as<float>(), su.splits,
                                                                                       pairs, I, act.as<bf16>());
    check_launch(op, shapes);
  }
  DeviceScratch part = ctx.scratch(size_t(sd.splits) * pairs * D * sizeof(float), op);
  moe_down_kernel<MT><<<dim3(E, n_down, m_tiles * sd.splits), kThreads, 0, ctx.stream()>>>(
      act.as<bf16>(), int(D), I, ptrs, offsets.as<int32_t>(), order.as<int32_t>(), weights.data<float>(), sd.splits,
      sd.chunk, pairs, part.as<float>());
  check_launch(op, shapes);
  down_splits = sd.splits;
  return part;
}

}  // namespace

void moe_experts_dev(CudaContext& ctx, const Tensor& x, const Tensor& ids, const Tensor& weights, int k,
                     const std::vector<ExpertWeights>& experts, Tensor& y) {
  const char* op = "moe_experts_dev";
  require_device(x, op, "x");
  require_device(ids, op, "ids");
  require_device(weights, op, "weights");
  require_device(y, op, "y");
  const std::string shapes = describe("x", x) + ", " + describe("ids", ids) + ", " + std::to_string(experts.size()) +
                             " experts, k " + std::to_string(k);
  const int64_t D = x.dim(-1), T_ = x.numel() / D;
  require(!experts.empty() && k > 0 && ids.numel() == T_ * k && weights.numel() == T_ * k && y.numel() == x.numel(),
          op, "ids/weights must be [T, k] and y like x: " + shapes);
  require(ids.dtype() == DType::kI32 && weights.dtype() == DType::kF32 && x.dtype() == DType::kBF16, op,
          "ids I32, weights F32 and x BF16 expected: " + shapes);
  const int E = static_cast<int>(experts.size()), I = static_cast<int>(experts[0].gate.dim(0));
  for (const ExpertWeights& ew : experts)
    require(ew.gate.dtype() == DType::kBF16 && ew.up.dtype() == DType::kBF16 && ew.down.dtype() == DType::kBF16 &&
                ew.gate.dim(0) == I && ew.gate.dim(1) == D && ew.down.dim(0) == D && ew.down.dim(1) == I,
            op, "every expert needs BF16 gate/up [I, D] and down [D, I]: " + shapes);
  require(D % 8 == 0 && I % 8 == 0, op, "D and I must be multiples of 8: " + shapes);
  if (T_ == 0) return;
  const int pairs = static_cast<int>(T_ * k);
  const ExpertPtrs ptrs = expert_pointers(ctx, experts, op);
  DeviceScratch offsets = ctx.scratch((E + 1) * sizeof(int32_t), op);
  DeviceScratch order = ctx.scratch(pairs * sizeof(int32_t), op);
  DeviceScratch act = ctx.scratch(size_t(pairs) * I * sizeof(bf16), op);
  moe_sort_kernel<<<1, 1024, 2 * E * sizeof(int32_t), ctx.stream()>>>(ids.data<int32_t>(), pairs, E,
                                                                       offsets.as<int32_t>(), order.as<int32_t>());
  check_launch(op, shapes);
  // Experts averaging 40 rows or more (large decode batches, prefill) take 64-row tiles.
  int down_splits = 1;
  const DeviceScratch part =
      pairs >= 40 * E
          ? expert_products<4>(ctx, x, k, ptrs, offsets, order, weights, pairs, T_, D, I, E, act, down_splits, shapes)
          : expert_products<2>(ctx, x, k, ptrs, offsets, order, weights, pairs, T_, D, I, E, act, down_splits, shapes);
  if (y.dtype() == DType::kBF16) {
    moe_combine_kernel<bf16><<<grid_for(T_ * D, 256), 256, 0, ctx.stream()>>>(part.as<float>(), down_splits, T_, int(D),
                                                                             k, y.data<bf16>());
  } else {
    require(y.dtype() == DType::kF32, op, describe("y", y) + " must be BF16 or F32");
    moe_combine_kernel<float><<<grid_for(T_ * D, 256), 256, 0, ctx.stream()>>>(part.as<float>(), down_splits, T_,
                                                                              int(D), k, y.data<float>());
  }
  check_launch(op, shapes);
}

}  // namespace folio::cuda
