// Turns a page into the views the vision encoder sees, exactly as the reference
// preprocessing does (model doc §4.2-4.3):
//   Tiny/Small: resize to s x s (aspect not kept);  Base/Large: letterbox to s x s;
//   Gundam: letterbox the page to 1024 (global view) and, when a side exceeds 640, resize
//   the page to (640 w, 640 h) and cut it into w x h tiles of 640, row-major.
// Letterboxing is Pillow's ImageOps.pad with colour (127,127,127): the longer side becomes
// s, the other round(short/long * s) (round half to even), pasted centred at
// round((s - size) / 2). All resizing is Pillow BICUBIC (image/resample.h).
#pragma once
#include <vector>

#include "image/image.h"
#include "image/tile_grid.h"
#include "image/view_mode.h"

namespace folio {

struct ViewOptions {
  ViewMode mode = ViewMode::kGundam;
  int max_tiles = 6;  // Gundam only; 2..9 (6 = official vLLM config, 9 = hub infer())
};

struct PageViews {
  Image global;              // base_size x base_size
  std::vector<Image> tiles;  // grid_w * grid_h tiles of tile_size, row-major; empty if 1x1
  int grid_w = 1, grid_h = 1;
  int base_size = 0, tile_size = 0;
  int n_placeholders = 0;  // image placeholder tokens this page takes in the prompt
};

// Throws invalid_input for an empty image or max_tiles outside 2..9.
PageViews make_views(const Image& page, const ViewOptions& options);

// ImageOps.pad(image, (size, size), BICUBIC, color=(fill, fill, fill)).
Image letterbox(const Image& image, int size, uint8_t fill = 127);

// Encoder input for one view: [3, H, W] floats, (v/255 - 0.5)/0.5 rounded to bf16
// (the values are exactly representable as bf16 afterwards).
std::vector<float> to_model_pixels(const Image& view);

}  // namespace folio
