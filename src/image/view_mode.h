// The DeepSeek-OCR resolution modes (model doc §3.6): view sizes, whether the page is
// tiled, and how many image placeholder tokens a page takes.
#pragma once
#include <string>
#include <string_view>

#include "image/tile_grid.h"

namespace folio {

enum class ViewMode { kTiny, kSmall, kBase, kLarge, kGundam };

struct ModeSpec {
  ViewMode mode;
  const char* name;
  int base_size;   // side of the global view
  int image_size;  // side of a tile (Gundam) / equal to base_size otherwise
  bool crop;       // tiles in addition to the global view
};

const ModeSpec& mode_spec(ViewMode mode);

// "tiny", "small", "base", "large", "gundam" (case-sensitive); otherwise invalid_input
// naming the valid values.
ViewMode parse_mode(std::string_view name);
const char* mode_name(ViewMode mode);

// Placeholders for one image: global (q_b+1)*q_b + 1 (newline per row, separator) and,
// when grid is more than 1x1, local (q*w + 1)*(q*h), with q = ceil(size/64).
int placeholder_count(int base_size, int image_size, TileGrid grid);

// The same for a page of width x height in `mode` (Gundam chooses the grid first).
int placeholder_count(ViewMode mode, int width, int height, int max_tiles = 6);

}  // namespace folio
