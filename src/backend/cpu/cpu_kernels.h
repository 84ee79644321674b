// Kernels of the CPU backend that have more than a few lines: matrix products with
// weights stored in bf16/f16 (kept in that dtype to halve memory traffic), and attention.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace folio::cpu {

// y[M,N] = x[M,K] · w[N,K]^T (+ bias). x, y f32; w f32/bf16/f16, or I8 [N, K+4] (weights/quantize.h),
// or I8Packed (weights/pack_int8.h, int8_linear.h).
void linear(const float* x, int64_t M, int64_t K, const Tensor& w, const float* bias, float* y);

// Few-row product for bf16 weights with AVX-512 (memory bound: reads each weight once).
// Returns false when the CPU lacks AVX-512 so the caller falls back.
bool gemv_bf16_avx512(const float* x, int64_t M, int64_t K, const uint16_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N);

// The same for int8 weights in the weights/quantize.h layout (row stride K + 4).
bool gemv_int8_avx512(const float* x, int64_t M, int64_t K, const int8_t* w, int64_t n_begin, int64_t n_end,
                      const float* bias, float* y, int64_t N);

void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec);

}  // namespace folio::cpu

namespace folio::cpu {

// Batched decoding over a paged KV cache (paged_ops.cpp); semantics in backend.h.
void kv_store(const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool);
void paged_attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool, const Tensor& block_table,
                     const Tensor& seq_lens, int block_size, const AttentionSpec& spec, Tensor& out);
void greedy_next(const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                 const Tensor& window, const Tensor& whitelist, Tensor& next);
void advance_positions(Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table, int block_size);

}  // namespace folio::cpu
