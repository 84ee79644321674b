// The Gundam tile-grid choice of the reference (`dynamic_preprocess` /
// `find_closest_aspect_ratio` in DeepSeek-OCR's process/image_process.py).
//
// The reference builds the candidate grids as a Python set and sorts them by tile count;
// ties keep the set's iteration order, and that order decides some choices. So the
// candidate order here is produced the way CPython (3.8+, 64-bit) produces it: tuple
// hashes (xxHash-style) inserted into an open-addressing table with the same probing and
// growth, then read in slot order, then a stable sort by i*j.
#pragma once
#include <utility>
#include <vector>

namespace folio {

struct TileGrid {
  int w = 1;  // tiles across
  int h = 1;  // tiles down
  bool operator==(const TileGrid&) const = default;
};

// All (w, h) with min_tiles <= w*h <= max_tiles, in the reference's iteration order.
std::vector<TileGrid> tile_grid_candidates(int min_tiles, int max_tiles);

// The grid the reference picks for a width x height page; (1, 1) when both sides are
// <= tile_size (no tiling). max_tiles must be in [min_tiles, 64] (throws invalid_input).
TileGrid choose_tile_grid(int width, int height, int min_tiles, int max_tiles, int tile_size = 640);

}  // namespace folio
