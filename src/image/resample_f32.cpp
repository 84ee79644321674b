// Float resamplers for the model's position tables, following PyTorch's CUDA kernels
// (upsample_bicubic2d_aa / upsample_linear1d) step by step in float32, because the
// reference computed the tables there before casting them to bf16.
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "image/resample.h"

namespace folio {
namespace {

float keys_cubic_f(float x) {  // PyTorch aa_filter for bicubic, a = -0.5
  constexpr float a = -0.5f;
  x = std::abs(x);
  if (x < 1.0f) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2.0f) return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a;
  return 0.0f;
}

// Normalised float weights of every output index along one axis.
struct AxisWeights {
  std::vector<int> first, count;
  std::vector<float> w;  // out * span
  int span = 0;
};

AxisWeights aa_weights(int in, int out) {
  const float scale = static_cast<float>(in) / static_cast<float>(out);
  const float support = scale >= 1.0f ? 2.0f * scale : 2.0f;
  const float invscale = scale >= 1.0f ? 1.0f / scale : 1.0f;
  AxisWeights a;
  a.span = static_cast<int>(std::ceil(support)) * 2 + 1;
  a.first.resize(out);
  a.count.resize(out);
  a.w.assign(static_cast<size_t>(out) * a.span, 0.0f);
  for (int i = 0; i < out; ++i) {
    const float center = scale * (i + 0.5f);
    const int xmin = std::max(static_cast<int>(center - support + 0.5f), 0);
    const int xsize = std::min(static_cast<int>(center + support + 0.5f), in) - xmin;
    const float xmin_m_center = static_cast<float>(xmin) - center;
    float* w = &a.w[static_cast<size_t>(i) * a.span];
    float total = 0.0f;
    for (int j = 0; j < xsize; ++j) {
      w[j] = keys_cubic_f((j + xmin_m_center + 0.5f) * invscale);
      total += w[j];
    }
    if (total != 0.0f)
      for (int j = 0; j < xsize; ++j) w[j] /= total;
    a.first[i] = xmin;
    a.count[i] = xsize;
  }
  return a;
}

void check_sizes(const char* what, std::initializer_list<int> sizes) {
  for (int s : sizes)
    if (s < 1) throw invalid_input(std::string(what) + ": sizes must be positive");
}

}  // namespace

std::vector<float> resize_aa_bicubic_f32(const float* src, int in_h, int in_w, int channels,
                                         int out_h, int out_w) {
  check_sizes("resize_aa_bicubic_f32", {in_h, in_w, channels, out_h, out_w});
  const AxisWeights wy = aa_weights(in_h, out_h);
  const AxisWeights wx = aa_weights(in_w, out_w);
  std::vector<float> out(static_cast<size_t>(out_h) * out_w * channels, 0.0f);
  std::vector<float> row(channels);
  // As the CUDA kernel: for each output pixel, sum over source rows of (weight_y times the
  // horizontally filtered row), both sums in float.
  for (int oy = 0; oy < out_h; ++oy) {
    const float* ky = &wy.w[static_cast<size_t>(oy) * wy.span];
    for (int ox = 0; ox < out_w; ++ox) {
      const float* kx = &wx.w[static_cast<size_t>(ox) * wx.span];
      float* o = &out[(static_cast<size_t>(oy) * out_w + ox) * channels];
      for (int y = 0; y < wy.count[oy]; ++y) {
        std::fill(row.begin(), row.end(), 0.0f);
        const float* line = src + static_cast<size_t>(wy.first[oy] + y) * in_w * channels;
        for (int x = 0; x < wx.count[ox]; ++x) {
          const float* p = line + static_cast<size_t>(wx.first[ox] + x) * channels;
          for (int c = 0; c < channels; ++c) row[c] += kx[x] * p[c];
        }
        for (int c = 0; c < channels; ++c) o[c] += ky[y] * row[c];
      }
    }
  }
  return out;
}

std::vector<float> resize_linear_1d_f32(const float* src, int in_len, int channels, int out_len) {
  check_sizes("resize_linear_1d_f32", {in_len, channels, out_len});
  const float scale = static_cast<float>(in_len) / static_cast<float>(out_len);
  std::vector<float> out(static_cast<size_t>(out_len) * channels);
  for (int o = 0; o < out_len; ++o) {
    float s = scale * (static_cast<float>(o) + 0.5f) - 0.5f;
    if (s < 0.0f) s = 0.0f;
    const int i0 = static_cast<int>(s);
    const int step = i0 < in_len - 1 ? 1 : 0;
    const float l1 = s - static_cast<float>(i0);
    const float l0 = 1.0f - l1;
    const float* a = src + static_cast<size_t>(i0) * channels;
    const float* b = src + static_cast<size_t>(i0 + step) * channels;
    float* dst = &out[static_cast<size_t>(o) * channels];
    for (int c = 0; c < channels; ++c) dst[c] = l0 * a[c] + l1 * b[c];
  }
  return out;
}

}  // namespace folio
