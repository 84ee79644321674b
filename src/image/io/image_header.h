// Image dimensions read straight from a file header (PNG IHDR, JPEG SOFn, GIF logical
// screen, BMP info header, WebP VP8/VP8L/VP8X, first TIFF IFD) without decoding pixels.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

#include "image/io/image_format.h"

namespace folio {

struct ImageDims {
  int64_t width = 0;
  int64_t height = 0;
};

// Throws invalid_input naming `name` when the header is truncated or malformed, or when
// the format carries no image dimensions (PDF, unknown).
ImageDims read_image_dims(std::string_view bytes, FileFormat format, const std::string& name);

// Offset of the first start-of-scan marker of the main image (segments such as an EXIF
// thumbnail are skipped whole). Throws like read_image_dims.
size_t jpeg_first_scan_offset(std::string_view bytes, const std::string& name);

}  // namespace folio
