// Decodes one image file (PNG, JPEG, TIFF first page, WebP, BMP) into 8-bit RGB the way
// the reference loads pages (Pillow open -> exif_transpose -> convert("RGB")):
// EXIF orientation applied, alpha dropped (not composited), gray expanded to RGB.
//
// The size is read from the header first and checked against `limits`, so nothing is
// allocated for an oversized image. Errors name the file: invalid_input for empty,
// truncated, corrupt or unsupported files (GIF is recognised but not decodable),
// too_large for images over the limits. Never crashes on arbitrary bytes.
// Thread-safe (no shared state).
#pragma once
#include <string>
#include <string_view>

#include "image/image.h"
#include "image/io/decode_limits.h"
#include "image/io/image_format.h"

namespace folio {

Image decode_image(std::string_view bytes, const std::string& name, const DecodeLimits& limits = {});

}  // namespace folio
