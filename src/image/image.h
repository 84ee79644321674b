// An 8-bit RGB raster, row-major, 3 bytes per pixel, no padding between rows.
// This is what every decoder produces and every view builder consumes.
#pragma once
#include <cstddef>
#include <cstdint>
#include <vector>

namespace folio {

struct Image {
  int width = 0;
  int height = 0;
  std::vector<uint8_t> rgb;  // width * height * 3

  bool empty() const { return width == 0 || height == 0; }
  uint8_t* row(int y) { return rgb.data() + static_cast<size_t>(y) * width * 3; }
  const uint8_t* row(int y) const { return rgb.data() + static_cast<size_t>(y) * width * 3; }
  static Image blank(int w, int h, uint8_t fill) {
    Image im;
    im.width = w;
    im.height = h;
    im.rgb.assign(static_cast<size_t>(w) * h * 3, fill);
    return im;
  }
};

}  // namespace folio
