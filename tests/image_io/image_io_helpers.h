// Shared helpers for the image_io tests: encode test pictures with OpenCV, read files.
#pragma once
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-enum-enum-conversion"
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#pragma GCC diagnostic pop

#include <array>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "image/image.h"

namespace folio::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// A w x h BGR(A) picture with a distinct colour per quadrant-ish gradient.
inline cv::Mat test_pattern(int w, int h, int channels = 3) {
  cv::Mat m(h, w, CV_8UC(channels));
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < channels; ++c)
        m.ptr<uint8_t>(y)[x * channels + c] = static_cast<uint8_t>((x * 7 + y * 13 + c * 50) & 0xff);
  return m;
}

inline std::string encode(const cv::Mat& m, const std::string& ext, const std::vector<int>& params = {}) {
  std::vector<uint8_t> buf;
  if (!cv::imencode(ext, m, buf, params)) throw std::runtime_error("imencode failed for " + ext);
  return std::string(buf.begin(), buf.end());
}

// RGB value of pixel (x, y).
inline std::array<int, 3> rgb_at(const Image& im, int x, int y) {
  const uint8_t* p = im.row(y) + x * 3;
  return {p[0], p[1], p[2]};
}

}  // namespace folio::testing
