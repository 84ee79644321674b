#include "image/resample.h"

#include <cstdint>
#include <random>
#include <vector>

#include <gtest/gtest.h>

#include "core/error.h"

namespace folio {
namespace {

Image row_image(const std::vector<uint8_t>& gray) {  // 1 pixel high, R=G=B
  Image im = Image::blank(static_cast<int>(gray.size()), 1, 0);
  for (size_t i = 0; i < gray.size(); ++i) im.rgb[i * 3] = im.rgb[i * 3 + 1] = im.rgb[i * 3 + 2] = gray[i];
  return im;
}

Image transpose(const Image& im) {
  Image t = Image::blank(im.height, im.width, 0);
  for (int y = 0; y < im.height; ++y)
    for (int x = 0; x < im.width; ++x)
      for (int c = 0; c < 3; ++c) t.row(x)[y * 3 + c] = im.row(y)[x * 3 + c];
  return t;
}

Image random_image(int w, int h, unsigned seed) {
  std::mt19937 rng(seed);
  Image im = Image::blank(w, h, 0);
  for (auto& v : im.rgb) v = static_cast<uint8_t>(rng() & 0xff);
  return im;
}

std::vector<uint8_t> red_channel(const Image& im) {
  std::vector<uint8_t> r;
  for (size_t i = 0; i < im.rgb.size(); i += 3) r.push_back(im.rgb[i]);
  return r;
}

TEST(ResizeBicubic, SameSizeIsACopy) {
  const Image im = random_image(7, 5, 1);
  const Image out = resize_bicubic(im, 7, 5);
  EXPECT_EQ(out.rgb, im.rgb);
}

// Worked by hand from Pillow's kernel: upscaling [100, 200] to 4 pixels gives weights
// (1.0882, -0.0882), (0.7929, 0.2071) and their mirrors: 91.18, 120.71, 179.29, 208.82.
TEST(ResizeBicubic, UpscaleTwoPixelsByHand) {
  const Image out = resize_bicubic(row_image({100, 200}), 4, 1);
  EXPECT_EQ(red_channel(out), (std::vector<uint8_t>{91, 121, 179, 209}));
}

// Downscaling 2 -> 1 averages with equal weights 0.5 (2^21 each): 15.5 rounds up, 15 stays.
TEST(ResizeBicubic, DownscaleAveragesAndRoundsHalfUp) {
  EXPECT_EQ(red_channel(resize_bicubic(row_image({10, 21}), 1, 1)), std::vector<uint8_t>{16});
  EXPECT_EQ(red_channel(resize_bicubic(row_image({10, 20}), 1, 1)), std::vector<uint8_t>{15});
}

TEST(ResizeBicubic, VerticalPassMatchesHorizontalOnTransposedImage) {
  const Image im = random_image(1, 9, 2);
  const Image v = resize_bicubic(im, 1, 23);
  const Image h = resize_bicubic(transpose(im), 23, 1);
  EXPECT_EQ(v.rgb, h.rgb);
}

TEST(ResizeBicubic, ConstantImageStaysConstant) {
  for (uint8_t fill : {0, 1, 127, 254, 255}) {
    const Image out = resize_bicubic(Image::blank(37, 53, fill), 101, 19);
    for (uint8_t v : out.rgb) ASSERT_EQ(v, fill) << "fill " << int(fill);
  }
}

TEST(ResizeBicubic, OvershootIsClippedNotWrapped) {
  // A hard 0/255 edge rings with a = -0.5; the ring must clip to 0 and 255.
  const Image out = resize_bicubic(row_image({0, 0, 255, 255}), 13, 1);
  const std::vector<uint8_t> r = red_channel(out);
  EXPECT_EQ(r.front(), 0);
  EXPECT_EQ(r.back(), 255);
  for (size_t i = 1; i < r.size(); ++i) EXPECT_LE(r[i - 1], r[i]) << "at " << i;
}

TEST(ResizeBicubic, SizesAndChannelsAreIndependent) {
  const Image im = random_image(31, 17, 3);
  const Image out = resize_bicubic(im, 10, 40);
  ASSERT_EQ(out.width, 10);
  ASSERT_EQ(out.height, 40);
  ASSERT_EQ(out.rgb.size(), 10u * 40u * 3u);
  // Each channel is resampled on its own: a channel copied from another resizes the same.
  Image same = im;
  for (size_t i = 0; i < same.rgb.size(); i += 3) same.rgb[i + 2] = same.rgb[i];
  const Image o2 = resize_bicubic(same, 10, 40);
  for (size_t i = 0; i < o2.rgb.size(); i += 3) ASSERT_EQ(o2.rgb[i + 2], o2.rgb[i]);
}

TEST(ResizeBicubic, RejectsEmptyTargets) {
  EXPECT_THROW(resize_bicubic(Image::blank(4, 4, 0), 0, 4), Error);
  EXPECT_THROW(resize_bicubic(Image{}, 4, 4), Error);
}

TEST(ResizeAaBicubicF32, IdentityIsExact) {
  std::vector<float> src(5 * 6 * 2);
  for (size_t i = 0; i < src.size(); ++i) src[i] = static_cast<float>(i) * 0.37f - 3.0f;
  EXPECT_EQ(resize_aa_bicubic_f32(src.data(), 5, 6, 2, 5, 6), src);
}

TEST(ResizeAaBicubicF32, UpscaleMatchesKeysKernel) {
  const float src[2] = {100.0f, 200.0f};
  const std::vector<float> out = resize_aa_bicubic_f32(src, 1, 2, 1, 1, 4);
  const float want[4] = {91.17647f, 120.71429f, 179.28571f, 208.82353f};
  for (int i = 0; i < 4; ++i) EXPECT_NEAR(out[i], want[i], 1e-3) << i;
}

TEST(ResizeAaBicubicF32, DownscaleByTwoOfARampIsTheRampOfPairMeans) {
  // Antialiased: a linear ramp stays linear in the interior when halved.
  std::vector<float> src(16);
  for (int i = 0; i < 16; ++i) src[i] = static_cast<float>(i);
  const std::vector<float> out = resize_aa_bicubic_f32(src.data(), 16, 1, 1, 8, 1);
  for (int i = 2; i < 6; ++i) EXPECT_NEAR(out[i], 2.0f * i + 0.5f, 1e-4) << i;
}

TEST(ResizeLinear1dF32, AlignCornersFalse) {
  const float src[4] = {0.0f, 10.0f, 4.0f, 20.0f};  // 2 rows x 2 channels
  const std::vector<float> out = resize_linear_1d_f32(src, 2, 2, 4);
  const std::vector<float> want = {0, 10, 1, 12.5f, 3, 17.5f, 4, 20};
  ASSERT_EQ(out.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_FLOAT_EQ(out[i], want[i]) << i;
}

TEST(ResizeLinear1dF32, DownsampleSamplesBetweenRows) {
  const float src[4] = {0, 1, 2, 3};
  const std::vector<float> out = resize_linear_1d_f32(src, 4, 1, 2);
  EXPECT_FLOAT_EQ(out[0], 0.5f);  // src = 2 * 0.5 - 0.5 = 0.5
  EXPECT_FLOAT_EQ(out[1], 2.5f);
}

}  // namespace
}  // namespace folio
