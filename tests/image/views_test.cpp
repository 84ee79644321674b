#include "image/views.h"

#include <gtest/gtest.h>

#include "core/bf16.h"
#include "core/error.h"

namespace folio {
namespace {

bool row_is(const Image& im, int y, uint8_t v) {
  for (int i = 0; i < im.width * 3; ++i)
    if (im.row(y)[i] != v) return false;
  return true;
}

// 337 x 100 -> height round(100/337*64) = 19, offset round(45 / 2) = 22 (half to even;
// half-up would give 23).
TEST(Letterbox, RoundsOffsetHalfToEven) {
  const Image out = letterbox(Image::blank(337, 100, 0), 64);
  ASSERT_EQ(out.width, 64);
  ASSERT_EQ(out.height, 64);
  EXPECT_TRUE(row_is(out, 21, 127));
  EXPECT_TRUE(row_is(out, 22, 0));
  EXPECT_TRUE(row_is(out, 40, 0));
  EXPECT_TRUE(row_is(out, 41, 127));
}

TEST(Letterbox, TallImagePadsColumns) {
  const Image out = letterbox(Image::blank(50, 200, 255), 100);  // width 25 at x = 38 (37.5 -> 38)
  EXPECT_EQ(out.row(0)[37 * 3], 127);
  EXPECT_EQ(out.row(0)[38 * 3], 255);
  EXPECT_EQ(out.row(99)[62 * 3], 255);
  EXPECT_EQ(out.row(99)[63 * 3], 127);
}

TEST(MakeViews, SingleViewModesHaveOneSquareView) {
  const Image page = Image::blank(300, 500, 200);
  for (ViewMode m : {ViewMode::kTiny, ViewMode::kSmall, ViewMode::kBase, ViewMode::kLarge}) {
    const PageViews v = make_views(page, {m, 6});
    EXPECT_EQ(v.global.width, mode_spec(m).base_size);
    EXPECT_EQ(v.global.height, mode_spec(m).base_size);
    EXPECT_TRUE(v.tiles.empty());
    EXPECT_EQ(v.n_placeholders, placeholder_count(m, 300, 500));
  }
  // Tiny stretches (no padding), Base letterboxes.
  EXPECT_TRUE(row_is(make_views(page, {ViewMode::kTiny, 6}).global, 0, 200));
  EXPECT_EQ(make_views(page, {ViewMode::kBase, 6}).global.row(0)[0], 127);
}

TEST(MakeViews, GundamCutsTilesRowMajor) {
  Image page = Image::blank(1500, 1000, 0);  // left half dark, right half bright
  for (int y = 0; y < page.height; ++y)
    for (int x = 750; x < 1500; ++x) page.row(y)[x * 3] = 255;
  const PageViews v = make_views(page, {ViewMode::kGundam, 6});
  ASSERT_EQ(v.grid_w, 3);
  ASSERT_EQ(v.grid_h, 2);
  ASSERT_EQ(v.tiles.size(), 6u);
  for (const Image& t : v.tiles) {
    EXPECT_EQ(t.width, 640);
    EXPECT_EQ(t.height, 640);
  }
  EXPECT_EQ(v.tiles[0].row(0)[0], 0);      // row 0, column 0
  EXPECT_EQ(v.tiles[2].row(0)[639 * 3], 255);  // row 0, column 2
  EXPECT_EQ(v.tiles[3].row(639)[0], 0);    // row 1, column 0
  EXPECT_EQ(v.n_placeholders, 273 + 31 * 20);
}

TEST(MakeViews, RejectsMaxTilesOutsideRange) {
  const Image page = Image::blank(10, 10, 0);
  EXPECT_THROW(make_views(page, {ViewMode::kGundam, 1}), Error);
  EXPECT_THROW(make_views(page, {ViewMode::kGundam, 10}), Error);
  EXPECT_THROW(make_views(Image{}, {ViewMode::kGundam, 6}), Error);
}

TEST(ToModelPixels, ChannelsFirstNormalisedAndBf16) {
  Image im = Image::blank(2, 1, 0);
  im.rgb = {0, 127, 255, 1, 2, 3};
  const std::vector<float> px = to_model_pixels(im);
  ASSERT_EQ(px.size(), 6u);
  EXPECT_EQ(px[0], -1.0f);        // R of pixel 0
  EXPECT_EQ(px[2], round_to_bf16((127.0f / 255.0f - 0.5f) / 0.5f));  // G of pixel 0
  EXPECT_EQ(px[4], 1.0f);         // B of pixel 0
  EXPECT_EQ(px[2], -(1.0f + 1.0f / 128) / 256);  // pad colour -0.0039216 in bf16
  for (float v : px) EXPECT_EQ(v, round_to_bf16(v));
}

}  // namespace
}  // namespace folio
