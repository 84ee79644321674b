// Attention with int8 products for the vision encoder's int8 mode (AttentionSpec::int8) on
// CPUs with AVX512-VNNI: q·kᵀ as u8 x s8 products with per-row scales (SAM's q·R
// relative-position terms stay fp32), an fp32 softmax whose probabilities become 16-bit codes, and P·V as
// two u8 x s8 passes over the codes' high and low bytes. About 2.5x fewer cycles than fp32
// for SAM's global blocks (4096 keys), where attention is a fifth of the encoder's work.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace folio::cpu {

// Same contract as cpu::attention (cpu_kernels.h); head_dim a multiple of 16. Call only when
// have_avx512_vnni().
void attention_int8(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec);
// Backend::window_attention's contract (backend.h), reading the windows' rows in place from
// the token grids: the same values as cutting the windows first. Same conditions.
void window_attention_int8(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec);

// One query row, logits s[0, n) (scaled): adds rel_rows[j / grid_w] + rel_cols[j % grid_w]
// when rel_rows is given, then writes code_j = round(65535 * exp(s_j - max s)) for j < visible
// (0 for visible <= j < n_pad) as high bytes `hi` and low bytes `lo`, and returns Σ code_j.
// s is modified. AVX512 (attention_int8_vnni.cpp).
int64_t softmax_codes_vnni(float* s, int64_t n, int64_t visible, const float* rel_rows, const float* rel_cols,
                           int64_t grid_w, uint8_t* hi, uint8_t* lo, int64_t n_pad);

// out[r, t] = Σ_d q[r * ldq + d] * tab[t, d] for r < rows and t_begin <= t < t_end: SAM's
// relative-position terms, from tab_t = the table [T, D] transposed to [D, Tp] (Tp a multiple
// of 16, zero past T; t_begin and t_end multiples of 16, t_end <= Tp). out has row stride
// ldo >= t_end; its other columns are not written. Each value is the same whatever the range.
// AVX-512 (attention_int8_vnni.cpp).
void rel_pos_products_avx512(const float* q, int64_t ldq, int64_t rows, const float* tab_t, int64_t D, int64_t Tp,
                             int64_t t_begin, int64_t t_end, float* out, int64_t ldo);

// packed_int8::pack_rows (core/packed_int8.h) in AVX-512, same bytes: the keys of each head.
void pack_rows_vnni(const float* src, int64_t rows, int64_t K, int64_t stride, int8_t* out);
// The same for the transpose of src [keys, cols] (row stride `stride`): `cols` packed rows of
// length `keys`, one scale per column. The values of each head, without a transposed copy.
void pack_cols_vnni(const float* src, int64_t keys, int64_t cols, int64_t stride, int8_t* out);

}  // namespace folio::cpu
