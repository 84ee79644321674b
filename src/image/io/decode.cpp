#include "image/io/decode.h"

#include <opencv2/core.hpp>
#include <opencv2/core/utils/logger.hpp>
#include <opencv2/imgcodecs.hpp>

#include <cstdint>
#include <mutex>

#include "core/error.h"
#include "image/io/image_header.h"

namespace folio {
namespace {

void silence_opencv_logging() {
  // OpenCV logs decoder warnings to stderr; our errors already say what went wrong.
  static std::once_flag once;
  std::call_once(once, [] { cv::utils::logging::setLogLevel(cv::utils::logging::LOG_LEVEL_SILENT); });
}

// libjpeg pads a cut-off scan with grey and reports only a warning, and libpng may
// stop before missing trailing chunks; Pillow refuses both, so we check the end markers.
void check_complete(std::string_view b, FileFormat f, const std::string& name) {
  if (f == FileFormat::kJpeg) {
    const size_t sos = jpeg_first_scan_offset(b, name);
    if (b.find("\xff\xd9", sos) == std::string_view::npos)
      throw invalid_input(name + ": JPEG data is truncated (no end-of-image marker)");
  } else if (f == FileFormat::kPng) {
    if (b.find("IEND") == std::string_view::npos)
      throw invalid_input(name + ": PNG data is truncated (no IEND chunk)");
  }
}

}  // namespace

Image decode_image(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  if (bytes.empty()) throw invalid_input(name + ": file is empty");
  if (bytes.size() > static_cast<size_t>(INT32_MAX))
    throw too_large(name + ": file is larger than 2 GiB");
  const FileFormat format = detect_format(bytes);
  if (format == FileFormat::kUnknown)
    throw invalid_input(name + ": not a supported image format (expected PNG, JPEG, TIFF, WebP or BMP)");
  if (format == FileFormat::kPdf)
    throw invalid_input(name + ": is a PDF, not an image (open it as a document)");
  const ImageDims dims = read_image_dims(bytes, format, name);
  check_image_size(dims.width, dims.height, limits, name);
  if (format == FileFormat::kGif) throw invalid_input(name + ": GIF is not supported");
  check_complete(bytes, format, name);

  silence_opencv_logging();
  cv::Mat bgr;
  try {
    // imdecode wants a Mat; this one only views the caller's bytes (no copy).
    const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1,
                      const_cast<char*>(bytes.data()));
    bgr = cv::imdecode(raw, cv::IMREAD_COLOR);  // applies EXIF orientation, drops alpha
  } catch (const cv::Exception& e) {
    throw invalid_input(name + ": " + format_name(format) + " data is corrupt (" + e.msg + ")");
  }
  if (bgr.empty() || bgr.type() != CV_8UC3)
    throw invalid_input(name + ": " + format_name(format) + " data is corrupt or truncated");
  // The decoded size must agree with the header (orientation may swap the sides); a
  // disagreement means the header lied and the limit check did not cover it.
  const bool same = (bgr.cols == dims.width && bgr.rows == dims.height) ||
                    (bgr.cols == dims.height && bgr.rows == dims.width);
  if (!same) check_image_size(bgr.cols, bgr.rows, limits, name);

  Image out = Image::blank(bgr.cols, bgr.rows, 0);
  for (int y = 0; y < bgr.rows; ++y) {
    const uint8_t* in = bgr.ptr<uint8_t>(y);
    uint8_t* o = out.row(y);
    for (int x = 0; x < bgr.cols; ++x) {
      o[x * 3 + 0] = in[x * 3 + 2];
      o[x * 3 + 1] = in[x * 3 + 1];
      o[x * 3 + 2] = in[x * 3 + 0];
    }
  }
  return out;
}

}  // namespace folio
