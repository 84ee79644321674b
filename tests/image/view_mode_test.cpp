#include "image/view_mode.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace folio {
namespace {

TEST(ViewMode, ParsesEveryNameAndListsThemOnError) {
  for (const char* n : {"tiny", "small", "base", "large", "gundam"})
    EXPECT_STREQ(mode_name(parse_mode(n)), n);
  try {
    parse_mode("huge");
    FAIL() << "expected an error";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput);
    EXPECT_NE(std::string(e.what()).find("huge"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("tiny, small, base, large, gundam"), std::string::npos);
  }
}

// Model doc §3.6 tables.
TEST(PlaceholderCount, SingleViewModes) {
  EXPECT_EQ(placeholder_count(ViewMode::kTiny, 1190, 1684), 73);
  EXPECT_EQ(placeholder_count(ViewMode::kSmall, 1190, 1684), 111);
  EXPECT_EQ(placeholder_count(ViewMode::kBase, 1190, 1684), 273);
  EXPECT_EQ(placeholder_count(ViewMode::kLarge, 1190, 1684), 421);
}

TEST(PlaceholderCount, GundamPages) {
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1190, 1684, 6), 903);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1224, 1584, 9), 903);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 2480, 3508, 6), 903);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1920, 1080, 6), 483);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1920, 1080, 9), 1093);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 800, 600, 6), 893);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1500, 1500, 6), 693);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 1500, 1500, 9), 1203);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 640, 640, 6), 273);
  // Maxima: a 1 x 6 and a 1 x 9 strip.
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 500, 5000, 6), 933);
  EXPECT_EQ(placeholder_count(ViewMode::kGundam, 500, 5000, 9), 1263);
}

}  // namespace
}  // namespace folio
