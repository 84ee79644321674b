// Slot bookkeeping of the paged KV cache on the device: writing new keys/values to their slots
// (kv_store) and moving every row of a decode batch to its next position (advance_positions),
// so consecutive decode steps need nothing from the host.
#include <initializer_list>
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {
namespace {

// 16-byte chunks: W bf16 per row, W % 8 == 0.
__global__ void kv_store_kernel(const uint4* k, const uint4* v, const int32_t* slots, int64_t T_, int chunks,
                                uint4* kp, uint4* vp) {
  const int64_t n = T_ * chunks;
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = i / chunks, c = i % chunks;
    const int32_t s = slots[t];
    if (s < 0) continue;  // inactive row
    kp[int64_t(s) * chunks + c] = k[i];
    vp[int64_t(s) * chunks + c] = v[i];
  }
}

__global__ void advance_kernel(int32_t* positions, int32_t* seq_lens, int32_t* slots, const int32_t* table, int B,
                               int max_blocks, int block_size) {
  const int b = blockIdx.x * blockDim.x + threadIdx.x;
  if (b >= B || positions[b] < 0) return;
  const int p = positions[b] + 1;
  positions[b] = p;
  seq_lens[b] = p + 1;
  const int blk = min(p / block_size, max_blocks - 1);
  slots[b] = table[int64_t(b) * max_blocks + blk] * block_size + p % block_size;
}

}  // namespace

void kv_store(CudaContext& ctx, const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool) {
  const char* op = "kv_store";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&k, &v, &slots, &k_pool, &v_pool}) require_device(*t, op, "argument");
  const std::string shapes = describe("k", k) + ", " + describe("slots", slots) + ", " + describe("k_pool", k_pool);
  const int64_t W = k.dim(-1), T_ = k.numel() / std::max<int64_t>(W, 1);
  require(v.numel() == k.numel() && k_pool.dim(-1) == W && v_pool.numel() == k_pool.numel() && slots.numel() == T_ &&
              slots.dtype() == DType::kI32,
          op, "k/v [T, W], I32 slots [T] and pools [S, W] expected: " + shapes);
  require(k.dtype() == DType::kBF16 && v.dtype() == DType::kBF16 && k_pool.dtype() == DType::kBF16 &&
              v_pool.dtype() == DType::kBF16 && W % 8 == 0,
          op, "BF16 rows of a multiple of 8 expected: " + shapes);
  if (T_ == 0) return;
  const int chunks = static_cast<int>(W / 8);
  kv_store_kernel<<<grid_for(T_ * chunks, 256), 256, 0, ctx.stream()>>>(
      k.data<uint4>(), v.data<uint4>(), slots.data<int32_t>(), T_, chunks, k_pool.data<uint4>(), v_pool.data<uint4>());
  check_launch(op, shapes);
}

void advance_positions(CudaContext& ctx, Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table,
                       int block_size) {
  const char* op = "advance_positions";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&positions, &seq_lens, &slots, &block_table}) require_device(*t, op, "argument");
  const int64_t B = positions.numel();
  const std::string shapes = describe("positions", positions) + ", " + describe("block_table", block_table);
  require(seq_lens.numel() == B && slots.numel() == B && B > 0 && block_table.numel() % B == 0 && block_size > 0, op,
          "positions, seq_lens, slots [B] and block_table [B, max_blocks] expected: " + shapes);
  advance_kernel<<<unsigned((B + 127) / 128), 128, 0, ctx.stream()>>>(
      positions.data<int32_t>(), seq_lens.data<int32_t>(), slots.data<int32_t>(), block_table.data<int32_t>(), int(B),
      int(block_table.numel() / B), block_size);
  check_launch(op, shapes);
}

}  // namespace folio::cuda
