// Pillow-exact BICUBIC resampling of 8-bit RGB. Follows the structure of Pillow's
// libImaging/Resample.c (precompute_coeffs, normalize_coeffs_8bpc, the two 8bpc passes)
// so that every rounding step happens in the same place: that is what makes the views
// identical to the reference's, pixel for pixel.
#include "image/resample.h"

#include <cmath>
#include <cstdint>
#include <string>

#include "core/error.h"
#include "core/parallel.h"

namespace folio {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;  // Pillow's PRECISION_BITS = 22
constexpr double kCubicSupport = 2.0;

double keys_cubic(double x) {  // a = -0.5, Pillow's bicubic_filter
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}

// Fixed-point weights of one output pixel: source index `first` and `count` weights.
struct Taps {
  std::vector<int> first;
  std::vector<int> count;
  std::vector<int32_t> weights;  // out_size * ksize, zero-filled past `count`
  int ksize = 0;
};

Taps precompute_taps(int in_size, int out_size) {
  // Pillow passes the box as floats (0, in_size); the arithmetic is double from here on.
  const float in0 = 0.0f, in1 = static_cast<float>(in_size);
  const double scale = static_cast<double>(in1 - in0) / out_size;
  const double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = kCubicSupport * filterscale;
  Taps t;
  t.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  t.first.resize(out_size);
  t.count.resize(out_size);
  t.weights.assign(static_cast<size_t>(out_size) * t.ksize, 0);
  std::vector<double> k(t.ksize);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);  // C truncation, as in Pillow
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      k[x] = keys_cubic((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    int32_t* out = &t.weights[static_cast<size_t>(xx) * t.ksize];
    for (int x = 0; x < xmax; ++x) {
      const double w = ww != 0.0 ? k[x] / ww : k[x];
      // normalize_coeffs_8bpc: round half away from zero via truncation of +-0.5.
      out[x] = w < 0 ? static_cast<int32_t>(-0.5 + w * (1 << kPrecisionBits))
                     : static_cast<int32_t>(0.5 + w * (1 << kPrecisionBits));
    }
    t.first[xx] = xmin;
    t.count[xx] = xmax;
  }
  return t;
}

inline uint8_t clip8(int64_t acc) {  // arithmetic shift = floor, then clamp (Pillow clip8)
  const int64_t v = acc >> kPrecisionBits;
  return static_cast<uint8_t>(v < 0 ? 0 : (v > 255 ? 255 : v));
}

// Horizontal pass over source rows [row0, row0 + rows).
Image resample_horizontal(const Image& src, int out_w, int row0, int rows) {
  const Taps t = precompute_taps(src.width, out_w);
  Image out = Image::blank(out_w, rows, 0);
  parallel_for(rows, 16, [&](int64_t y0, int64_t y1) {
    for (int64_t y = y0; y < y1; ++y) {
      const uint8_t* in = src.row(static_cast<int>(y) + row0);
      uint8_t* o = out.row(static_cast<int>(y));
      for (int xx = 0; xx < out_w; ++xx) {
        const int32_t* k = &t.weights[static_cast<size_t>(xx) * t.ksize];
        const uint8_t* p = in + static_cast<size_t>(t.first[xx]) * 3;
        int64_t s0 = 1 << (kPrecisionBits - 1), s1 = s0, s2 = s0;
        for (int x = 0; x < t.count[xx]; ++x, p += 3) {
          s0 += p[0] * static_cast<int64_t>(k[x]);
          s1 += p[1] * static_cast<int64_t>(k[x]);
          s2 += p[2] * static_cast<int64_t>(k[x]);
        }
        o[xx * 3 + 0] = clip8(s0);
        o[xx * 3 + 1] = clip8(s1);
        o[xx * 3 + 2] = clip8(s2);
      }
    }
  });
  return out;
}

// Vertical pass; `t` has its source rows already shifted to `src`'s first row.
Image resample_vertical(const Image& src, const Taps& t, int out_h) {
  Image out = Image::blank(src.width, out_h, 0);
  const int n = src.width * 3;
  parallel_for(out_h, 16, [&](int64_t y0, int64_t y1) {
    std::vector<int64_t> acc(n);
    for (int64_t yy = y0; yy < y1; ++yy) {
      const int32_t* k = &t.weights[static_cast<size_t>(yy) * t.ksize];
      acc.assign(n, 1 << (kPrecisionBits - 1));
      for (int y = 0; y < t.count[yy]; ++y) {
        const uint8_t* in = src.row(t.first[yy] + y);
        const int64_t w = k[y];
        for (int i = 0; i < n; ++i) acc[i] += in[i] * w;
      }
      uint8_t* o = out.row(static_cast<int>(yy));
      for (int i = 0; i < n; ++i) o[i] = clip8(acc[i]);
    }
  });
  return out;
}

}  // namespace

Image resize_bicubic(const Image& src, int out_w, int out_h) {
  if (out_w < 1 || out_h < 1 || src.empty())
    throw invalid_input("resize: cannot resize a " + std::to_string(src.width) + "x" +
                        std::to_string(src.height) + " image to " + std::to_string(out_w) +
                        "x" + std::to_string(out_h));
  const bool need_h = out_w != src.width;
  const bool need_v = out_h != src.height;
  if (!need_h && !need_v) return src;

  Taps vert = precompute_taps(src.height, out_h);
  // Only the source rows the vertical pass reads go through the horizontal pass.
  const int row_first = vert.first[0];
  const int row_last = vert.first[out_h - 1] + vert.count[out_h - 1];
  if (!need_h) return resample_vertical(src, vert, out_h);
  Image tmp = resample_horizontal(src, out_w, row_first, row_last - row_first);
  if (!need_v) return tmp;
  for (int& f : vert.first) f -= row_first;
  return resample_vertical(tmp, vert, out_h);
}

}  // namespace folio
