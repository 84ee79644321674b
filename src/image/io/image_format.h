// File formats recognised by their magic numbers (never by the file name).
#pragma once
#include <string_view>

namespace folio {

enum class FileFormat { kUnknown, kPng, kJpeg, kGif, kBmp, kWebp, kTiff, kPdf };

FileFormat detect_format(std::string_view bytes);

// Lower-case short name: "png", "jpeg", "gif", "bmp", "webp", "tiff", "pdf", "unknown".
const char* format_name(FileFormat format);

}  // namespace folio
