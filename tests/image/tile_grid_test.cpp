#include "image/tile_grid.h"

#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "support/golden.h"

namespace folio {
namespace {

std::vector<TileGrid> grids(std::initializer_list<std::pair<int, int>> l) {
  std::vector<TileGrid> v;
  for (auto [w, h] : l) v.push_back({w, h});
  return v;
}

// Orders printed by CPython 3.11: sorted(set(...), key=lambda x: x[0]*x[1]).
TEST(TileGridCandidates, MatchCPythonSetOrderForMax2To9) {
  EXPECT_EQ(tile_grid_candidates(2, 2), grids({{1, 2}, {2, 1}}));
  EXPECT_EQ(tile_grid_candidates(2, 3), grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}}));
  EXPECT_EQ(tile_grid_candidates(2, 4), grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {4, 1}, {1, 4}, {2, 2}}));
  EXPECT_EQ(tile_grid_candidates(2, 5),
            grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {4, 1}, {1, 4}, {2, 2}, {1, 5}, {5, 1}}));
  EXPECT_EQ(tile_grid_candidates(2, 6), grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {4, 1}, {1, 4}, {2, 2},
                                               {1, 5}, {5, 1}, {6, 1}, {2, 3}, {1, 6}, {3, 2}}));
  EXPECT_EQ(tile_grid_candidates(2, 7),
            grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {4, 1}, {1, 4}, {2, 2}, {1, 5}, {5, 1}, {6, 1},
                   {2, 3}, {1, 6}, {3, 2}, {7, 1}, {1, 7}}));
  EXPECT_EQ(tile_grid_candidates(2, 8),
            grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {2, 2}, {4, 1}, {1, 4}, {5, 1}, {1, 5}, {1, 6},
                   {6, 1}, {3, 2}, {2, 3}, {7, 1}, {1, 7}, {4, 2}, {2, 4}, {1, 8}, {8, 1}}));
  EXPECT_EQ(tile_grid_candidates(2, 9),
            grids({{1, 2}, {2, 1}, {3, 1}, {1, 3}, {2, 2}, {4, 1}, {1, 4}, {5, 1}, {1, 5}, {1, 6},
                   {6, 1}, {3, 2}, {2, 3}, {7, 1}, {1, 7}, {4, 2}, {2, 4}, {1, 8}, {8, 1}, {1, 9},
                   {3, 3}, {9, 1}}));
}

TEST(TileGridCandidates, MatchCPythonAfterSeveralTableResizes) {
  EXPECT_EQ(tile_grid_candidates(2, 20),
            grids({{1, 2},  {2, 1},  {3, 1},  {1, 3},  {2, 2},  {4, 1}, {1, 4},  {5, 1},  {1, 5},
                   {1, 6},  {6, 1},  {3, 2},  {2, 3},  {7, 1},  {1, 7}, {4, 2},  {2, 4},  {1, 8},
                   {8, 1},  {1, 9},  {3, 3},  {9, 1},  {2, 5},  {5, 2}, {10, 1}, {1, 10}, {11, 1},
                   {1, 11}, {12, 1}, {3, 4},  {4, 3},  {1, 12}, {6, 2}, {2, 6},  {13, 1}, {1, 13},
                   {14, 1}, {2, 7},  {1, 14}, {7, 2},  {1, 15}, {5, 3}, {15, 1}, {3, 5},  {1, 16},
                   {2, 8},  {16, 1}, {8, 2},  {4, 4},  {1, 17}, {17, 1}, {9, 2}, {1, 18}, {18, 1},
                   {3, 6},  {2, 9},  {6, 3},  {1, 19}, {19, 1}, {5, 4}, {20, 1}, {4, 5},  {10, 2},
                   {2, 10}, {1, 20}}));
}

TEST(TileGrid, DocumentExamples) {
  EXPECT_EQ(choose_tile_grid(1190, 1684, 2, 6), (TileGrid{2, 3}));
  EXPECT_EQ(choose_tile_grid(1920, 1080, 2, 6), (TileGrid{2, 1}));
  EXPECT_EQ(choose_tile_grid(1920, 1080, 2, 9), (TileGrid{4, 2}));
  EXPECT_EQ(choose_tile_grid(1500, 1500, 2, 6), (TileGrid{2, 2}));
  EXPECT_EQ(choose_tile_grid(1500, 1500, 2, 9), (TileGrid{3, 3}));
  EXPECT_EQ(choose_tile_grid(640, 640, 2, 9), (TileGrid{1, 1}));
  EXPECT_EQ(choose_tile_grid(100, 640, 2, 6), (TileGrid{1, 1}));
}

TEST(TileGrid, RejectsBadLimits) {
  EXPECT_THROW(choose_tile_grid(1000, 1000, 2, 1), Error);
  EXPECT_THROW(choose_tile_grid(0, 1000, 2, 6), Error);
}

TEST(TileGrid, MatchesEveryGoldenRule) {
  const std::string dir = testing::golden_v1_tiny();
  FOLIO_REQUIRE_GOLDEN(dir);
  std::ifstream in(dir + "/rules.json");
  ASSERT_TRUE(in) << "cannot read rules.json";
  const nlohmann::json rules = nlohmann::json::parse(in);
  int checked = 0;
  for (const auto& r : rules.at("grids")) {
    const int w = r.at("w"), h = r.at("h");
    for (int max : {6, 9}) {
      const auto& want = r.at("max" + std::to_string(max));
      const TileGrid got = choose_tile_grid(w, h, 2, max);
      EXPECT_EQ(got, (TileGrid{want[0], want[1]})) << w << "x" << h << " max " << max;
      ++checked;
    }
  }
  EXPECT_GE(checked, 20);
}

}  // namespace
}  // namespace folio
