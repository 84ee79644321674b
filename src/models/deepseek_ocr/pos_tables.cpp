#include "models/deepseek_ocr/pos_tables.h"

#include <algorithm>
#include <cmath>

namespace folio {

namespace {

double cubic_a_half(double x) {
  const double a = -0.5;
  x = std::fabs(x);
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1.0;
  if (x < 2.0) return (((x - 5.0) * x + 8.0) * x - 4.0) * a;
  return 0.0;
}

struct AxisWeights {
  std::vector<int> start;
  std::vector<std::vector<float>> w;
};

// PyTorch's antialiased interpolation weights for one axis (upsample_aa kernels).
AxisWeights aa_weights(int in, int out) {
  AxisWeights aw;
  const double scale = static_cast<double>(in) / out;
  const double support = 2.0 * std::max(scale, 1.0);
  const double invscale = scale >= 1.0 ? 1.0 / scale : 1.0;
  for (int i = 0; i < out; ++i) {
    const double center = scale * (i + 0.5);
    const int xmin = std::max(static_cast<int>(center - support + 0.5), 0);
    const int xmax = std::min(static_cast<int>(center + support + 0.5), in);
    std::vector<float> w;
    double total = 0.0;
    std::vector<double> raw;
    for (int j = xmin; j < xmax; ++j) {
      const double v = cubic_a_half((j - center + 0.5) * invscale);
      raw.push_back(v);
      total += v;
    }
    for (double v : raw) w.push_back(static_cast<float>(total != 0.0 ? v / total : 0.0));
    aw.start.push_back(xmin);
    aw.w.push_back(std::move(w));
  }
  return aw;
}

}  // namespace

std::vector<float> resize_bicubic_aa(const std::vector<float>& src, int in_h, int in_w, int channels, int out_h,
                                     int out_w) {
  // Horizontal pass, then vertical, accumulating in float like the reference kernel.
  const AxisWeights wx = aa_weights(in_w, out_w), wy = aa_weights(in_h, out_h);
  std::vector<float> tmp(static_cast<size_t>(in_h) * out_w * channels, 0.0f);
  for (int y = 0; y < in_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      float* dst = &tmp[(static_cast<size_t>(y) * out_w + x) * channels];
      for (size_t t = 0; t < wx.w[x].size(); ++t) {
        const float* s = &src[(static_cast<size_t>(y) * in_w + wx.start[x] + t) * channels];
        const float wt = wx.w[x][t];
        for (int c = 0; c < channels; ++c) dst[c] += wt * s[c];
      }
    }
  std::vector<float> out(static_cast<size_t>(out_h) * out_w * channels, 0.0f);
  for (int y = 0; y < out_h; ++y)
    for (int x = 0; x < out_w; ++x) {
      float* dst = &out[(static_cast<size_t>(y) * out_w + x) * channels];
      for (size_t t = 0; t < wy.w[y].size(); ++t) {
        const float* s = &tmp[(static_cast<size_t>(wy.start[y] + t) * out_w + x) * channels];
        const float wt = wy.w[y][t];
        for (int c = 0; c < channels; ++c) dst[c] += wt * s[c];
      }
    }
  return out;
}

std::vector<float> resize_linear_rows(const std::vector<float>& src, int in_len, int channels, int out_len) {
  std::vector<float> out(static_cast<size_t>(out_len) * channels);
  const float scale = static_cast<float>(in_len) / out_len;
  for (int o = 0; o < out_len; ++o) {
    float s = (o + 0.5f) * scale - 0.5f;
    if (s < 0) s = 0;
    const int i0 = std::min(static_cast<int>(s), in_len - 1);
    const int i1 = std::min(i0 + 1, in_len - 1);
    const float l1 = s - i0, l0 = 1.0f - l1;
    for (int c = 0; c < channels; ++c)
      out[static_cast<size_t>(o) * channels + c] = l0 * src[static_cast<size_t>(i0) * channels + c] +
                                                   l1 * src[static_cast<size_t>(i1) * channels + c];
  }
  return out;
}

Tensor sam_pos_embed_for_grid(const Tensor& pos_embed, int grid) {
  const int P = static_cast<int>(pos_embed.dim(1)), C = static_cast<int>(pos_embed.dim(3));
  std::vector<float> src = pos_embed.to_vector_f32();
  if (grid == P) return Tensor::from_f32(src, {int64_t(grid) * grid, C});
  return Tensor::from_f32(resize_bicubic_aa(src, P, P, C, grid, grid), {int64_t(grid) * grid, C});
}

Tensor rel_pos_for_length(const Tensor& table, int length) {
  const int L = static_cast<int>(table.dim(0)), D = static_cast<int>(table.dim(1));
  std::vector<float> src = table.to_vector_f32();
  if (L == length) return Tensor::from_f32(src, {L, D});
  return Tensor::from_f32(resize_linear_rows(src, L, D, length), {length, D});
}

Tensor clip_pos_embed_for_grid(const Tensor& position_embedding, const Tensor& class_embedding, int grid) {
  const int64_t rows = position_embedding.dim(0), C = position_embedding.dim(1);
  const int P = static_cast<int>(std::lround(std::sqrt(static_cast<double>(rows - 1))));
  std::vector<float> all = position_embedding.to_vector_f32();
  std::vector<float> cls = class_embedding.to_vector_f32();
  std::vector<float> grid_src(all.begin() + C, all.end());
  std::vector<float> resized = grid == P ? grid_src : resize_bicubic_aa(grid_src, P, P, static_cast<int>(C), grid, grid);
  std::vector<float> out(static_cast<size_t>(grid * grid + 1) * C);
  for (int64_t c = 0; c < C; ++c) out[c] = all[c] + cls[c];
  std::copy(resized.begin(), resized.end(), out.begin() + C);
  return Tensor::from_f32(out, {int64_t(grid) * grid + 1, C});
}

}  // namespace folio
