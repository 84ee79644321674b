// The layout of a linear weight packed for the CPU's int8 matrix product (DType::kI8Packed).
// Written once at load by weights/pack_int8.h, read by backend/cpu/int8_linear*.cpp; kept here,
// in the layer both depend on, so producer and consumer cannot drift apart.
//
// A weight w[N, K] (N a multiple of 16) becomes a tensor of shape [N, Kp + 8] bytes, Kp = K
// rounded up to a multiple of 4. Rows are stored in groups of 16 (group g = rows 16g..16g+15),
// each group kGroupRows * (Kp + 8) bytes, in this order:
//   q[Kp/4][16][4] int8  for every 4 consecutive k, the 4 bytes of each of the 16 rows side by
//                        side: one 64-byte load is one VNNI operand (16 output columns x 4 k);
//                        q is the symmetric per-row quantisation w[n][k] ≈ scale[n] * q[n][k],
//                        scale = max|w[n]| / 127; k >= K is zero
//   scale[16] f32
//   row_sum[16] int32    Σ_k q[n][k], so an activation zero point costs one subtraction per output
// A row view [a, b) with a, b multiples of 16 (the q/k/v parts of a fused projection) is again
// a packed weight: the groups are self-contained and the tensor's rows line up with them.
#pragma once
#include <cstdint>

namespace folio::packed_int8 {

constexpr int64_t kGroupRows = 16;  // output columns per group (one zmm of int32 results)
constexpr int64_t kKStep = 4;       // k values per VNNI step (4 u8 x s8 products per int32 lane)
constexpr int64_t kRowExtra = 8;    // bytes per row after the codes: f32 scale + int32 row sum

inline int64_t padded_k(int64_t K) { return (K + kKStep - 1) / kKStep * kKStep; }
inline int64_t group_bytes(int64_t Kp) { return kGroupRows * (Kp + kRowExtra); }
// Offsets inside a group.
inline int64_t scale_offset(int64_t Kp) { return kGroupRows * Kp; }
inline int64_t row_sum_offset(int64_t Kp) { return kGroupRows * Kp + kGroupRows * 4; }
inline int64_t padded_rows(int64_t rows) { return (rows + kGroupRows - 1) / kGroupRows * kGroupRows; }

// Quantises and packs `rows` f32 rows of length K (row i at src + i * stride) into `out`,
// which holds padded_rows(rows) / 16 groups. Rows past `rows` in the last group are zero
// (scale 1, sum 0). Used at load for weights and at run time for attention's keys and values.
void pack_rows(const float* src, int64_t rows, int64_t K, int64_t stride, int8_t* out);

}  // namespace folio::packed_int8
