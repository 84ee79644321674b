// Position tables resized to the grid a view produces, computed in fp32 exactly like the
// official code: bicubic with antialias (PyTorch interpolate, a = -0.5, align_corners False)
// for the absolute position embeddings, 1-D linear for the relative-position tables.
// §3.1, §3.2 and §8.3 of shared/docs/models/deepseek-ocr.md.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace folio {

// The resampling kernels themselves are image/resample.h's float resizers.
// Host f32 tensors ready to upload.
Tensor sam_pos_embed_for_grid(const Tensor& pos_embed /*[1,P,P,C]*/, int grid);
Tensor rel_pos_for_length(const Tensor& table /*[L,D]*/, int length);
// [g*g + 1, C]: row 0 = class position + class embedding (so a zero row plus this table
// gives the class token), rows 1.. = resized grid positions.
Tensor clip_pos_embed_for_grid(const Tensor& position_embedding, const Tensor& class_embedding, int grid);

}  // namespace folio
