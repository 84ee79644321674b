// PNG encoding for page previews (OpenCV imencode).
#include "image/io/encode.h"

#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <vector>

#include "core/error.h"

namespace folio {

std::string encode_png(const Image& image) {
  if (image.empty()) throw internal_error("encode_png: empty image");
  cv::Mat rgb(image.height, image.width, CV_8UC3, const_cast<uint8_t*>(image.rgb.data()));
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<uchar> out;
  if (!cv::imencode(".png", bgr, out)) throw internal_error("encode_png: the PNG encoder failed");
  return std::string(out.begin(), out.end());
}

}  // namespace folio
