#include "image/view_mode.h"

#include <string>

#include "core/error.h"

namespace folio {
namespace {

constexpr ModeSpec kModes[] = {
    {ViewMode::kTiny, "tiny", 512, 512, false},     {ViewMode::kSmall, "small", 640, 640, false},
    {ViewMode::kBase, "base", 1024, 1024, false},   {ViewMode::kLarge, "large", 1280, 1280, false},
    {ViewMode::kGundam, "gundam", 1024, 640, true},
};

int tokens_per_side(int size) { return (size + 63) / 64; }  // ceil(size / 16 / 4)

}  // namespace

const ModeSpec& mode_spec(ViewMode mode) {
  for (const ModeSpec& m : kModes)
    if (m.mode == mode) return m;
  throw internal_error("mode_spec: unknown mode value");
}

ViewMode parse_mode(std::string_view name) {
  std::string valid;
  for (const ModeSpec& m : kModes) {
    if (name == m.name) return m.mode;
    valid += valid.empty() ? "" : ", ";
    valid += m.name;
  }
  throw invalid_input("mode: unknown mode '" + std::string(name) + "' (valid: " + valid + ")");
}

const char* mode_name(ViewMode mode) { return mode_spec(mode).name; }

int placeholder_count(int base_size, int image_size, TileGrid grid) {
  const int qb = tokens_per_side(base_size);
  int n = (qb + 1) * qb + 1;
  if (grid.w > 1 || grid.h > 1) {
    const int q = tokens_per_side(image_size);
    n += (q * grid.w + 1) * (q * grid.h);
  }
  return n;
}

int placeholder_count(ViewMode mode, int width, int height, int max_tiles) {
  const ModeSpec& m = mode_spec(mode);
  TileGrid grid{1, 1};
  if (m.crop) grid = choose_tile_grid(width, height, 2, max_tiles, m.image_size);
  return placeholder_count(m.base_size, m.image_size, grid);
}

}  // namespace folio
