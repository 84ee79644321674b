#include "image/io/decode.h"

#include <gtest/gtest.h>

#include "core/error.h"
#include "image/io/image_header.h"
#include "image_io_helpers.h"

namespace folio {
namespace {

using testing::encode;
using testing::rgb_at;
using testing::test_pattern;

// Expects `fn` to throw folio::Error of `kind` whose message contains every fragment.
template <typename Fn>
void expect_error(Fn fn, ErrorKind kind, std::initializer_list<const char*> fragments) {
  try {
    fn();
    ADD_FAILURE() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    for (const char* f : fragments) EXPECT_NE(std::string(e.what()).find(f), std::string::npos) << e.what();
  }
}

TEST(DetectFormat, ByMagicNumber) {
  EXPECT_EQ(detect_format(encode(test_pattern(4, 4), ".png")), FileFormat::kPng);
  EXPECT_EQ(detect_format(encode(test_pattern(4, 4), ".jpg")), FileFormat::kJpeg);
  EXPECT_EQ(detect_format(encode(test_pattern(4, 4), ".bmp")), FileFormat::kBmp);
  EXPECT_EQ(detect_format(encode(test_pattern(4, 4), ".webp")), FileFormat::kWebp);
  EXPECT_EQ(detect_format(encode(test_pattern(4, 4), ".tiff")), FileFormat::kTiff);
  EXPECT_EQ(detect_format("GIF89a\x10\x00\x10\x00"), FileFormat::kGif);
  EXPECT_EQ(detect_format("%PDF-1.7\n"), FileFormat::kPdf);
  EXPECT_EQ(detect_format("hello"), FileFormat::kUnknown);
  EXPECT_EQ(detect_format(""), FileFormat::kUnknown);
}

TEST(ReadImageDims, EveryFormatReportsItsSize) {
  for (const char* ext : {".png", ".jpg", ".bmp", ".webp", ".tiff"}) {
    const std::string b = encode(test_pattern(37, 21), ext);
    const ImageDims d = read_image_dims(b, detect_format(b), "x");
    EXPECT_EQ(d.width, 37) << ext;
    EXPECT_EQ(d.height, 21) << ext;
  }
  const std::string lossless = encode(test_pattern(37, 21), ".webp", {cv::IMWRITE_WEBP_QUALITY, 101});
  EXPECT_EQ(read_image_dims(lossless, FileFormat::kWebp, "x").width, 37);  // VP8L
}

TEST(DecodeImage, LosslessFormatsRoundTripInRgbOrder) {
  const cv::Mat bgr = test_pattern(23, 17);
  for (const char* ext : {".png", ".bmp", ".tiff"}) {
    const Image im = decode_image(encode(bgr, ext), std::string("a") + ext);
    ASSERT_EQ(im.width, 23);
    ASSERT_EQ(im.height, 17);
    for (int y = 0; y < 17; ++y)
      for (int x = 0; x < 23; ++x) {
        const auto* p = bgr.ptr<uint8_t>(y) + x * 3;
        ASSERT_EQ(rgb_at(im, x, y), (std::array<int, 3>{p[2], p[1], p[0]})) << ext << " " << x << "," << y;
      }
  }
}

TEST(DecodeImage, LossyFormatsDecodeClose) {
  const cv::Mat red(16, 16, CV_8UC3, cv::Scalar(0, 0, 255));  // BGR
  for (const char* ext : {".jpg", ".webp"}) {
    const Image im = decode_image(encode(red, ext), std::string("a") + ext);
    const auto p = rgb_at(im, 8, 8);
    EXPECT_GT(p[0], 240) << ext;
    EXPECT_LT(p[2], 16) << ext;
  }
}

TEST(DecodeImage, AlphaIsDroppedNotComposited) {
  cv::Mat bgra(4, 4, CV_8UC4, cv::Scalar(30, 20, 10, 0));  // fully transparent
  const Image im = decode_image(encode(bgra, ".png"), "a.png");
  EXPECT_EQ(rgb_at(im, 1, 1), (std::array<int, 3>{10, 20, 30}));
}

TEST(DecodeImage, GrayBecomesRgb) {
  cv::Mat gray(3, 5, CV_8UC1, cv::Scalar(77));
  const Image im = decode_image(encode(gray, ".png"), "g.png");
  ASSERT_EQ(im.rgb.size(), 3u * 5u * 3u);
  EXPECT_EQ(rgb_at(im, 4, 2), (std::array<int, 3>{77, 77, 77}));
}

// An APP1 EXIF segment holding one IFD entry: Orientation (0x0112) = `orientation`.
std::string exif_segment(int orientation) {
  std::string tiff = std::string("MM\0*\0\0\0\x08", 8) + std::string("\0\x01", 2) +
                     std::string("\x01\x12\0\x03\0\0\0\x01\0", 9) + char(orientation) + std::string("\0\0", 2) +
                     std::string(4, '\0');
  const std::string payload = std::string("Exif\0\0", 6) + tiff;
  const size_t len = payload.size() + 2;
  return std::string("\xff\xe1", 2) + char(len >> 8) + char(len & 0xff) + payload;
}

TEST(DecodeImage, AppliesExifOrientation) {
  // 40 x 20, left half red, right half blue (BGR in OpenCV).
  cv::Mat m(20, 40, CV_8UC3, cv::Scalar(255, 0, 0));
  m(cv::Rect(0, 0, 20, 20)).setTo(cv::Scalar(0, 0, 255));
  std::string jpeg = encode(m, ".jpg", {cv::IMWRITE_JPEG_QUALITY, 95});
  ASSERT_EQ(jpeg.substr(0, 4), "\xff\xd8\xff\xe0");
  const size_t app0_len = (uint8_t(jpeg[4]) << 8) | uint8_t(jpeg[5]);
  jpeg.insert(4 + app0_len, exif_segment(6));  // after SOI + APP0
  const Image im = decode_image(jpeg, "rotated.jpg");
  // Orientation 6 = rotate 90 degrees clockwise for display: the left (red) half goes on top.
  ASSERT_EQ(im.width, 20);
  ASSERT_EQ(im.height, 40);
  EXPECT_GT(rgb_at(im, 10, 5)[0], 200);
  EXPECT_GT(rgb_at(im, 10, 35)[2], 200);
}

TEST(DecodeImage, OversizedHeaderIsRefusedBeforeDecoding) {
  // A PNG signature and IHDR claiming 100000 x 100000: nothing else is needed to refuse it.
  std::string png = encode(test_pattern(4, 4), ".png");
  auto put_be32 = [&](size_t at, uint32_t v) {
    for (int i = 0; i < 4; ++i) png[at + i] = char(v >> (24 - 8 * i));
  };
  put_be32(16, 100000);
  put_be32(20, 100000);
  expect_error([&] { decode_image(png, "scan.png"); }, ErrorKind::kTooLarge,
               {"scan.png: 100000 x 100000 pixels exceeds the limit of 50000 pixels per side"});
  put_be32(16, 20000);
  put_be32(20, 20000);
  expect_error([&] { decode_image(png, "scan.png"); }, ErrorKind::kTooLarge,
               {"20000 x 20000 pixels exceeds the limit of 120000000 pixels"});
  DecodeLimits small;
  small.max_pixels = 10;
  expect_error([&] { decode_image(encode(test_pattern(4, 4), ".jpg"), "a.jpg", small); }, ErrorKind::kTooLarge,
               {"a.jpg: 4 x 4 pixels"});
}

TEST(DecodeImage, GifIsSizeCheckedThenRefused) {
  const std::string small_gif("GIF89a\x10\x00\x10\x00\x00\x00\x00;", 14);
  expect_error([&] { decode_image(small_gif, "a.gif"); }, ErrorKind::kInvalidInput, {"a.gif", "GIF is not supported"});
  const std::string huge_gif("GIF89a\xff\xff\xff\xff\x00\x00\x00;", 14);
  expect_error([&] { decode_image(huge_gif, "a.gif"); }, ErrorKind::kTooLarge, {"65535 x 65535"});
}

TEST(DecodeImage, EmptyUnknownAndTruncatedFilesAreInvalidInput) {
  expect_error([] { decode_image("", "e.png"); }, ErrorKind::kInvalidInput, {"e.png", "empty"});
  expect_error([] { decode_image("just some text", "t.txt"); }, ErrorKind::kInvalidInput, {"t.txt", "not a supported"});
  const std::string png = encode(test_pattern(64, 64), ".png");
  const std::string jpg = encode(test_pattern(64, 64), ".jpg");
  expect_error([&] { decode_image(png.substr(0, 20), "p.png"); }, ErrorKind::kInvalidInput, {"p.png", "truncated"});
  expect_error([&] { decode_image(png.substr(0, png.size() / 2), "p.png"); }, ErrorKind::kInvalidInput,
               {"p.png", "truncated"});
  expect_error([&] { decode_image(jpg.substr(0, jpg.size() / 2), "j.jpg"); }, ErrorKind::kInvalidInput,
               {"j.jpg", "truncated"});
  expect_error([&] { decode_image(std::string("\xff\xd8\xff\xe0\x00", 5), "j.jpg"); }, ErrorKind::kInvalidInput,
               {"j.jpg", "truncated"});
  expect_error([&] { decode_image("%PDF-1.4 ...", "d.pdf"); }, ErrorKind::kInvalidInput, {"d.pdf", "PDF"});
}

}  // namespace
}  // namespace folio
