// STAND-IN (serve branch): minimal image decoding with the agreed signature, so the server
// compiles and runs before the real image/io layer lands. The lead keeps the real version.
//
// decode_image: PNG/JPEG/TIFF/WebP/BMP bytes -> RGB. The declared size is read from the header
// and checked against `limits` before any pixel buffer is allocated. Throws folio::Error:
// invalid_input (not an image, truncated), too_large (beyond limits). Thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "image/image.h"

namespace folio {

struct DecodeLimits {
  int64_t max_side = 50000;
  int64_t max_pixels = 120'000'000;
};

Image decode_image(std::string_view bytes, const std::string& name, const DecodeLimits& limits = {});

}  // namespace folio
