#include "models/deepseek_ocr/pos_tables.h"

#include <algorithm>
#include <cmath>

#include "image/resample.h"

namespace folio {

Tensor sam_pos_embed_for_grid(const Tensor& pos_embed, int grid) {
  const int P = static_cast<int>(pos_embed.dim(1)), C = static_cast<int>(pos_embed.dim(3));
  std::vector<float> src = pos_embed.to_vector_f32();
  if (grid == P) return Tensor::from_f32(src, {int64_t(grid) * grid, C});
  return Tensor::from_f32(resize_aa_bicubic_f32(src.data(), P, P, C, grid, grid), {int64_t(grid) * grid, C});
}

Tensor rel_pos_for_length(const Tensor& table, int length) {
  const int L = static_cast<int>(table.dim(0)), D = static_cast<int>(table.dim(1));
  std::vector<float> src = table.to_vector_f32();
  if (L == length) return Tensor::from_f32(src, {L, D});
  return Tensor::from_f32(resize_linear_1d_f32(src.data(), L, D, length), {length, D});
}

Tensor clip_pos_embed_for_grid(const Tensor& position_embedding, const Tensor& class_embedding, int grid) {
  const int64_t rows = position_embedding.dim(0), C = position_embedding.dim(1);
  const int P = static_cast<int>(std::lround(std::sqrt(static_cast<double>(rows - 1))));
  std::vector<float> all = position_embedding.to_vector_f32();
  std::vector<float> cls = class_embedding.to_vector_f32();
  std::vector<float> grid_src(all.begin() + C, all.end());
  std::vector<float> resized = grid == P ? grid_src : resize_aa_bicubic_f32(grid_src.data(), P, P, static_cast<int>(C), grid, grid);
  std::vector<float> out(static_cast<size_t>(grid * grid + 1) * C);
  for (int64_t c = 0; c < C; ++c) out[c] = all[c] + cls[c];
  std::copy(resized.begin(), resized.end(), out.begin() + C);
  return Tensor::from_f32(out, {int64_t(grid) * grid + 1, C});
}

}  // namespace folio
