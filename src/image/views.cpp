#include "image/views.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/bf16.h"
#include "core/error.h"
#include "image/resample.h"

namespace folio {
namespace {

// Python round(): half to even, which is the default IEEE rounding mode of nearbyint.
int round_half_even(double v) { return static_cast<int>(std::nearbyint(v)); }

Image crop(const Image& src, int x0, int y0, int w, int h) {
  Image out = Image::blank(w, h, 0);
  for (int y = 0; y < h; ++y) {
    const uint8_t* in = src.row(y0 + y) + static_cast<size_t>(x0) * 3;
    std::copy(in, in + static_cast<size_t>(w) * 3, out.row(y));
  }
  return out;
}

void paste(Image& dst, const Image& src, int x0, int y0) {
  for (int y = 0; y < src.height; ++y)
    std::copy(src.row(y), src.row(y) + static_cast<size_t>(src.width) * 3,
              dst.row(y0 + y) + static_cast<size_t>(x0) * 3);
}

}  // namespace

Image letterbox(const Image& image, int size, uint8_t fill) {
  if (image.empty()) throw invalid_input("letterbox: image has no pixels");
  // ImageOps.contain: keep the aspect ratio; the long side becomes `size`. Pillow would
  // fail on a side rounding to 0 (a 1 x 5000 strip); we keep at least one pixel.
  int w = size, h = size;
  const double ratio = static_cast<double>(image.width) / image.height;
  if (ratio > 1.0)
    h = std::max(1, round_half_even(static_cast<double>(image.height) / image.width * size));
  else if (ratio < 1.0)
    w = std::max(1, round_half_even(static_cast<double>(image.width) / image.height * size));
  Image resized = resize_bicubic(image, w, h);
  if (w == size && h == size) return resized;
  Image out = Image::blank(size, size, fill);
  if (w != size)
    paste(out, resized, round_half_even((size - w) * 0.5), 0);
  else
    paste(out, resized, 0, round_half_even((size - h) * 0.5));
  return out;
}

PageViews make_views(const Image& page, const ViewOptions& options) {
  if (page.empty()) throw invalid_input("views: image has no pixels");
  if (options.max_tiles < 2 || options.max_tiles > 9)
    throw invalid_input("views: max_tiles must be between 2 and 9, got " +
                        std::to_string(options.max_tiles));
  const ModeSpec& m = mode_spec(options.mode);
  PageViews v;
  v.base_size = m.base_size;
  v.tile_size = m.image_size;
  if (!m.crop) {
    // Reference: `if image_size <= 640: image = image.resize((s, s))`, then pad (a no-op
    // for the already square image).
    v.global = m.base_size <= 640 ? resize_bicubic(page, m.base_size, m.base_size)
                                  : letterbox(page, m.base_size);
  } else {
    v.global = letterbox(page, m.base_size);
    const TileGrid g = choose_tile_grid(page.width, page.height, 2, options.max_tiles, m.image_size);
    v.grid_w = g.w;
    v.grid_h = g.h;
    if (g.w > 1 || g.h > 1) {
      const Image resized = resize_bicubic(page, m.image_size * g.w, m.image_size * g.h);
      for (int r = 0; r < g.h; ++r)
        for (int c = 0; c < g.w; ++c)
          v.tiles.push_back(crop(resized, c * m.image_size, r * m.image_size, m.image_size, m.image_size));
    }
  }
  v.n_placeholders = placeholder_count(m.base_size, m.image_size, {v.grid_w, v.grid_h});
  return v;
}

std::vector<float> to_model_pixels(const Image& view) {
  // ToTensor (v / 255 in float32), Normalize(0.5, 0.5), then .to(bfloat16): 256 values.
  float lut[256];
  for (int v = 0; v < 256; ++v)
    lut[v] = round_to_bf16((static_cast<float>(v) / 255.0f - 0.5f) / 0.5f);
  const size_t plane = static_cast<size_t>(view.width) * view.height;
  std::vector<float> out(plane * 3);
  for (size_t i = 0; i < plane; ++i)
    for (int c = 0; c < 3; ++c) out[c * plane + i] = lut[view.rgb[i * 3 + c]];
  return out;
}

}  // namespace folio
