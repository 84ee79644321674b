// PNG encoding of an RGB image (page previews served by the job API). Throws internal_error if the encoder fails.
#pragma once
#include <string>

#include "image/image.h"

namespace folio {

std::string encode_png(const Image& image);

}  // namespace folio
