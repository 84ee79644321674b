// Our views against the exact 8-bit views the official preprocessing produced for every
// case of the conformance folder (index.json): same grid, same placeholder count, and the
// pixels of the global view and of every tile.
#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "image/io/decode.h"
#include "image/views.h"
#include "image_io_helpers.h"
#include "support/golden.h"

namespace folio {
namespace {

int max_abs_diff(const Image& a, const Image& b) {
  int d = 0;
  for (size_t i = 0; i < a.rgb.size(); ++i) d = std::max(d, std::abs(int(a.rgb[i]) - int(b.rgb[i])));
  return d;
}

void expect_same_view(const Image& ours, const std::string& golden_png, const std::string& what, int* worst) {
  const Image want = decode_image(testing::read_file(golden_png), golden_png);
  ASSERT_EQ(ours.width, want.width) << what;
  ASSERT_EQ(ours.height, want.height) << what;
  const int d = max_abs_diff(ours, want);
  *worst = std::max(*worst, d);
  EXPECT_EQ(d, 0) << what << ": max abs difference " << d;
}

TEST(GoldenViews, EveryCaseMatchesPixelForPixel) {
  const std::string dir = testing::golden_v1_tiny();
  FOLIO_REQUIRE_GOLDEN(dir);
  std::ifstream in(dir + "/index.json");
  const nlohmann::json index = nlohmann::json::parse(in);
  int worst = 0, views = 0;
  for (const auto& c : index.at("cases")) {
    const std::string name = c.at("name");
    const std::string image = c.at("image");
    const Image page = decode_image(testing::read_file(dir + "/images/" + image), image);
    ASSERT_EQ(page.width, c.at("image_size")[0].get<int>()) << name;
    ASSERT_EQ(page.height, c.at("image_size")[1].get<int>()) << name;
    ViewOptions opt;
    opt.mode = parse_mode(c.at("mode").get<std::string>());
    opt.max_tiles = c.at("max_crops");
    const PageViews v = make_views(page, opt);
    EXPECT_EQ(v.base_size, c.at("base_size").get<int>()) << name;
    EXPECT_EQ(v.grid_w, c.at("spatial_crop_w_h")[0].get<int>()) << name;
    EXPECT_EQ(v.grid_h, c.at("spatial_crop_w_h")[1].get<int>()) << name;
    EXPECT_EQ(v.n_placeholders, c.at("n_image_tokens").get<int>()) << name;
    const auto& names = c.at("views");
    ASSERT_EQ(names.size(), v.tiles.size() + 1) << name;
    for (const auto& view : names) {
      const std::string vn = view;
      const std::string png = dir + "/cases/" + name + "/" + vn + ".png";
      if (vn == "global") {
        expect_same_view(v.global, png, name + "/" + vn, &worst);
      } else {
        const size_t k = std::stoul(vn.substr(4));
        ASSERT_LT(k, v.tiles.size()) << name;
        expect_same_view(v.tiles[k], png, name + "/" + vn, &worst);
      }
      ++views;
    }
  }
  std::cout << "[ golden ] " << views << " views compared, largest pixel difference " << worst << "\n";
  RecordProperty("largest_pixel_difference", worst);
  EXPECT_GE(views, 20);
}

}  // namespace
}  // namespace folio
