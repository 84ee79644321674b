#include "image/io/decode_limits.h"

#include "core/error.h"

namespace folio {

void check_image_size(int64_t width, int64_t height, const DecodeLimits& limits,
                      const std::string& what) {
  const std::string dims = std::to_string(width) + " x " + std::to_string(height) + " pixels";
  if (width <= 0 || height <= 0) throw invalid_input(what + ": image has no pixels (" + dims + ")");
  if (width > limits.max_side || height > limits.max_side)
    throw too_large(what + ": " + dims + " exceeds the limit of " + std::to_string(limits.max_side) +
                    " pixels per side");
  if (width > limits.max_pixels / height)  // width * height > max_pixels, without overflow
    throw too_large(what + ": " + dims + " exceeds the limit of " + std::to_string(limits.max_pixels) +
                    " pixels");
}

}  // namespace folio
