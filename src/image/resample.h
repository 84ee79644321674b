// Image and table resampling with exactly the kernels the reference preprocessing uses.
//
// resize_bicubic: Pillow's Image.resize(..., BICUBIC) on 8-bit RGB, bit for bit (Pillow
//   ImagingResample: Keys cubic a = -0.5, support widened by the scale when downscaling,
//   per-pixel weights normalised, then turned into 22-bit fixed point; horizontal pass
//   first, vertical second, each rounding and clipping to uint8; an axis that keeps its
//   size is not resampled at all).
// resize_aa_bicubic_f32: PyTorch interpolate(mode="bicubic", antialias=True,
//   align_corners=False) in float32 — the same kernel in float, used to resize the
//   position-embedding grids.
// resize_linear_1d_f32: PyTorch interpolate(mode="linear", align_corners=False), used for
//   the relative-position tables.
//
// All functions are pure, allocate only their result, and may be called from any thread
// (resize_bicubic splits its rows over the worker pool of core/parallel.h).
#pragma once
#include <vector>

#include "image/image.h"

namespace folio {

// Returns `src` resized to out_w x out_h (both >= 1; throws invalid_input otherwise).
// Resizing to the same size returns a copy, as Pillow does.
Image resize_bicubic(const Image& src, int out_w, int out_h);

// src is [in_h, in_w, channels] (channels last, contiguous); returns [out_h, out_w, channels].
// Each axis uses scale = in / out (as float), support 2 * max(scale, 1).
std::vector<float> resize_aa_bicubic_f32(const float* src, int in_h, int in_w, int channels,
                                         int out_h, int out_w);

// src is [in_len, channels]; returns [out_len, channels] resampled along the first axis.
std::vector<float> resize_linear_1d_f32(const float* src, int in_len, int channels, int out_len);

}  // namespace folio
