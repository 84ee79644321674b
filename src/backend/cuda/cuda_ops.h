// Launchers of the CUDA backend's kernels, one per op (one .cu each). Each validates shapes,
// dtypes and devices, queues work on ctx.stream() and throws folio::Error(kInternal) naming the
// op and the shapes on any problem. Shapes/semantics are those of backend/backend.h.
#pragma once
#include <cstdint>
#include <vector>

#include "backend/backend.h"
#include "backend/cuda/cuda_context.h"

namespace folio::cuda {

// accumulate: y += x·Wᵀ (+ bias) instead of y = x·Wᵀ (+ bias) (Backend::linear_add, linear_then's
// kAddTo).
void linear(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y,
            bool accumulate = false);
// linear for 1..8 bf16 rows without cuBLASLt (gemv.cu); false (nothing done) when the case does
// not fit: more rows, other dtypes, K not a multiple of 8 or unaligned operands. The same for
// h += x·Wᵀ into an fp32 h, and for Backend::rms_norm_linear (up to 4 weights).
bool linear_small_rows(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y);
bool linear_add_small(CudaContext& ctx, const Tensor& x, const Tensor& w, Tensor& h);
bool rms_norm_linear_small(CudaContext& ctx, const Tensor& x, const Tensor& g, float eps,
                           const std::vector<const Tensor*>& w, const std::vector<Tensor*>& y);
// Largest power of two (up to 256) that divides the address: vectorised access needs 16.
int pointer_alignment(const void* p);
void layer_norm(CudaContext& ctx, const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y);
void rms_norm(CudaContext& ctx, const Tensor& x, const Tensor& w, float eps, Tensor& y);
void add(CudaContext& ctx, const Tensor& a, const Tensor& b, Tensor& y);
void add_broadcast(CudaContext& ctx, Tensor& x, const Tensor& p);
// y[rows, N] += bias[N] (bias of any float dtype); used when cuBLASLt has no bias epilogue.
void add_bias_rows(CudaContext& ctx, Tensor& y, const Tensor& bias);
void gelu_erf(CudaContext& ctx, Tensor& x);
void quick_gelu(CudaContext& ctx, Tensor& x);
// y[T, I] = silu(gate_up[:, :I]) * gate_up[:, I:] (gate and up stacked in one product).
void silu_mul(CudaContext& ctx, const Tensor& gate_up, Tensor& y);
// y = silu(gate) * up for two separate [T, I] tensors (Backend::silu_mul and the MoE path);
// y may alias gate or up.
void silu_mul_split(CudaContext& ctx, const Tensor& gate, const Tensor& up, Tensor& y);
void attention(CudaContext& ctx, const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
               const AttentionSpec& spec);
void rope_neox(CudaContext& ctx, Tensor& x, const std::vector<int32_t>& positions, int heads, int head_dim,
               float theta);
void gather_rows(CudaContext& ctx, const Tensor& src, const std::vector<int32_t>& index, Tensor& dst);
void concat_cols(CudaContext& ctx, const Tensor& a, const Tensor& b, Tensor& y);
void im2col(CudaContext& ctx, const Tensor& x, int kernel, int stride, int pad, Tensor& cols);
// Any float dtype -> y's dtype (F32 or BF16), elementwise, same element count.
void convert(CudaContext& ctx, const Tensor& x, Tensor& y, const char* op);
void router_topk(CudaContext& ctx, const Tensor& logits, int k, float scale, std::vector<int32_t>& ids,
                 std::vector<float>& weights);
void moe_experts(CudaContext& ctx, const Tensor& x, const std::vector<int32_t>& ids,
                 const std::vector<float>& weights, int k, const std::vector<ExpertWeights>& experts, Tensor& y);

}  // namespace folio::cuda

namespace folio::cuda {
// Which GEMM path moe_experts took last: "cublasGemmGroupedBatchedEx" or "per-expert cuBLASLt loop".
const char* moe_gemm_path();
}  // namespace folio::cuda

namespace folio::cuda {
// Batched decoding over a paged KV cache (backend.h); indices are I32 device tensors.
void gather_rows_dev(CudaContext& ctx, const Tensor& src, const Tensor& index, Tensor& dst);
void rope_neox_dev(CudaContext& ctx, Tensor& x, const Tensor& positions, int heads, int head_dim, float theta);
void kv_store(CudaContext& ctx, const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool);
void paged_attention(CudaContext& ctx, const Tensor& q, const Tensor& k_pool, const Tensor& v_pool,
                     const Tensor& block_table, const Tensor& seq_lens, int block_size, const AttentionSpec& spec,
                     Tensor& out);
void router_topk_dev(CudaContext& ctx, const Tensor& logits, int k, float scale, bool renormalise, Tensor& ids,
                     Tensor& weights);
void moe_experts_dev(CudaContext& ctx, const Tensor& x, const Tensor& ids, const Tensor& weights, int k,
                     const std::vector<ExpertWeights>& experts, Tensor& y);
// Fused decode-step ops of backend.h; the bool ones return false (nothing done) for the cases
// they do not cover, and the caller falls back to the composition.
void rope_kv_store(CudaContext& ctx, Tensor& q, Tensor& k, const Tensor& v, const Tensor& positions, const Tensor& slots,
                   int heads, int head_dim, float theta, Tensor& k_pool, Tensor& v_pool);
bool rms_norm_route(CudaContext& ctx, const Tensor& h, const Tensor& norm_w, float eps, const Tensor& router, int k,
                    float scale, bool renormalise, Tensor& xn, Tensor& ids, Tensor& weights);
bool moe_add_small(CudaContext& ctx, const Tensor& xn, const Tensor& ids, const Tensor& weights, int k,
                   const std::vector<ExpertWeights>& experts, const ExpertWeights& shared, Tensor& h);
void greedy_next(CudaContext& ctx, const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                 const Tensor& window, const Tensor& whitelist, Tensor& next);
void advance_positions(CudaContext& ctx, Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table,
                       int block_size);
}  // namespace folio::cuda
