// STAND-IN (serve branch), see decode.h.
#include "image/io/decode.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <utility>

#include "core/error.h"

namespace folio {
namespace {

uint32_t be32(const unsigned char* p) { return (uint32_t(p[0]) << 24) | (p[1] << 16) | (p[2] << 8) | p[3]; }
uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | (p[1] << 8)); }
int32_t le32(const unsigned char* p) { return int32_t(p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24)); }

// The size a file declares in its header, for the formats whose header is cheap to read.
// nullopt when the format is not recognised here (the decoder still validates it).
std::optional<std::pair<int64_t, int64_t>> declared_size(std::string_view b) {
  auto u = reinterpret_cast<const unsigned char*>(b.data());
  if (b.size() >= 24 && b.substr(0, 8) == "\x89PNG\r\n\x1a\n") return std::pair<int64_t, int64_t>(be32(u + 16), be32(u + 20));
  if (b.size() >= 10 && (b.substr(0, 6) == "GIF87a" || b.substr(0, 6) == "GIF89a")) return std::pair<int64_t, int64_t>(le16(u + 6), le16(u + 8));
  if (b.size() >= 26 && b.substr(0, 2) == "BM") {
    int64_t h = le32(u + 22);
    return std::pair<int64_t, int64_t>(le32(u + 18), h < 0 ? -h : h);
  }
  if (b.size() >= 4 && u[0] == 0xFF && u[1] == 0xD8) {  // JPEG: walk segments to the first SOFn
    size_t i = 2;
    while (i + 9 < b.size()) {
      if (u[i] != 0xFF) return std::nullopt;
      unsigned char marker = u[i + 1];
      size_t len = (u[i + 2] << 8) | u[i + 3];
      bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
      if (sof) return std::pair<int64_t, int64_t>((u[i + 7] << 8) | u[i + 8], (u[i + 5] << 8) | u[i + 6]);
      i += 2 + len;
    }
  }
  return std::nullopt;
}

}  // namespace

Image decode_image(std::string_view bytes, const std::string& name, const DecodeLimits& limits) {
  if (bytes.empty()) throw invalid_input(name + ": the file is empty");
  if (bytes.size() >= 6 && (bytes.substr(0, 6) == "GIF87a" || bytes.substr(0, 6) == "GIF89a")) {
    // Checked first so an absurd declared size is reported as such.
    auto size = declared_size(bytes);
    if (size->first * size->second > limits.max_pixels)
      throw too_large(name + ": GIF declares " + std::to_string(size->first) + "x" + std::to_string(size->second) +
                      " pixels, more than the limit of " + std::to_string(limits.max_pixels));
    throw invalid_input(name + ": GIF images are not supported; convert to PNG");
  }
  if (auto size = declared_size(bytes)) {
    auto [w, h] = *size;
    if (w <= 0 || h <= 0) throw invalid_input(name + ": the image header declares an empty image");
    if (w > limits.max_side || h > limits.max_side || w * h > limits.max_pixels)
      throw too_large(name + ": image declares " + std::to_string(w) + "x" + std::to_string(h) +
                      " pixels, beyond the limit (" + std::to_string(limits.max_side) + " per side, " +
                      std::to_string(limits.max_pixels) + " in all)");
  }
  cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char*>(bytes.data()));
  cv::Mat bgr;
  try {
    bgr = cv::imdecode(raw, cv::IMREAD_COLOR);
  } catch (const cv::Exception&) {
    bgr.release();
  }
  if (bgr.empty()) throw invalid_input(name + ": not a readable image (unsupported format, or the data is truncated)");
  if (int64_t(bgr.cols) * bgr.rows > limits.max_pixels) throw too_large(name + ": image is beyond the pixel limit");
  Image image;
  image.width = bgr.cols;
  image.height = bgr.rows;
  image.rgb.resize(size_t(bgr.cols) * bgr.rows * 3);
  cv::Mat rgb(bgr.rows, bgr.cols, CV_8UC3, image.rgb.data());
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return image;
}

}  // namespace folio
