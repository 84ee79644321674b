// Bounds on what a decoder may allocate, checked from the file header before any pixel
// is decoded, so a 100,000 x 100,000 PNG of a few kilobytes cannot exhaust memory.
#pragma once
#include <cstdint>
#include <string>

namespace folio {

struct DecodeLimits {
  int64_t max_side = 50000;           // pixels, per side
  int64_t max_pixels = 120'000'000;   // width * height
};

// Throws too_large ("scan.png: 100000 x 100000 pixels exceeds the limit of 120000000
// pixels") when width x height breaks a limit; invalid_input when a side is zero.
// `what` is the file or page name used in the message.
void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits,
                      const std::string& what);

}  // namespace folio
