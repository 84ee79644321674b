#include "image/io/image_format.h"

namespace folio {

FileFormat detect_format(std::string_view b) {
  auto starts = [&](std::string_view magic, size_t at = 0) {
    return b.size() >= at + magic.size() && b.substr(at, magic.size()) == magic;
  };
  if (starts("\x89PNG\r\n\x1a\n")) return FileFormat::kPng;
  if (starts("\xff\xd8\xff")) return FileFormat::kJpeg;
  if (starts("GIF87a") || starts("GIF89a")) return FileFormat::kGif;
  if (starts("BM")) return FileFormat::kBmp;
  if (starts("RIFF") && starts("WEBP", 8)) return FileFormat::kWebp;
  if (starts(std::string_view("II*\0", 4)) || starts(std::string_view("MM\0*", 4)) ||
      starts(std::string_view("II+\0", 4)) || starts(std::string_view("MM\0+", 4)))
    return FileFormat::kTiff;
  // PDF readers accept the header anywhere in the first 1024 bytes (after junk such as a
  // mail header); so do we.
  if (b.substr(0, 1024).find("%PDF-") != std::string_view::npos) return FileFormat::kPdf;
  return FileFormat::kUnknown;
}

const char* format_name(FileFormat f) {
  switch (f) {
    case FileFormat::kPng: return "png";
    case FileFormat::kJpeg: return "jpeg";
    case FileFormat::kGif: return "gif";
    case FileFormat::kBmp: return "bmp";
    case FileFormat::kWebp: return "webp";
    case FileFormat::kTiff: return "tiff";
    case FileFormat::kPdf: return "pdf";
    case FileFormat::kUnknown: break;
  }
  return "unknown";
}

}  // namespace folio
