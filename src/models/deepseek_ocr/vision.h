// The DeepEncoder of DeepSeek-OCR end to end: SAM -> CLIP -> [CLIP | SAM] -> projector for
// each view size, then the image block layout (§3.6): tiles stitched into one grid with a
// newline vector after every row, the global view likewise, then the view separator.
#pragma once
#include <vector>

#include "image/views.h"
#include "models/deepseek_ocr/clip.h"
#include "models/deepseek_ocr/sam.h"

namespace folio {

// Pixels of one page's views (host f32, normalised, bf16-rounded, CHW per view).
struct ViewPixels {
  std::vector<float> global;  // [3, base, base]
  int base_size = 1024;
  std::vector<float> tiles;   // [n, 3, tile, tile], n = grid_w * grid_h when tiled, else empty
  int tile_size = 640;
  int grid_w = 1, grid_h = 1;
  bool tiled() const { return !tiles.empty(); }
};

// The encoder input of a page's views (image/views.h): normalised bf16-rounded pixels.
ViewPixels view_pixels(const PageViews& views);

// Placeholder rows the layout produces (equals the prompt's image token count).
int64_t image_block_rows(int base_size, int tile_size, int grid_w, int grid_h, bool tiled);

// Whether two pages' views can be encoded in one encode_batch call.
bool views_batchable(const ViewPixels& a, const ViewPixels& b);

// Device bytes the encoder's intermediates take for one page at most (an upper estimate, for
// sizing batches against a memory budget): proportional to its SAM tokens.
int64_t encoder_activation_bytes(const ViewPixels& views, int sam_width);

class VisionEncoder {
 public:
  VisionEncoder(const DeepseekOcrConfig& cfg, const DeepseekOcrWeights& w, Backend& be);

  // Returns image_embeds [N, hidden] on the device, in Backend::vision_dtype().
  Tensor encode(const ViewPixels& views, const Trace& t);
  // Several pages in one pass: every page's global view goes through SAM/CLIP as one batch,
  // every page's tiles as another. The pages must share the base size and (when tiled) the tile
  // size (views_batchable). Returns the pages' image blocks stacked in order,
  // [sum of image_block_rows, hidden]; page i's block is rows [offset_i, offset_i + rows_i).
  Tensor encode_batch(const std::vector<const ViewPixels*>& pages, const Trace& t = {});

 private:
  // One batch of equally sized views ([3, size, size] host f32 each) -> projected tokens
  // [B * g * g, hidden].
  Tensor encode_views(const std::vector<const float*>& views, int size, const Trace& t, const std::string& name);

  // [2, hidden]: the image newline and the view separator rows, uploaded once.
  const Tensor& marks();

  const DeepseekOcrConfig& cfg_;
  const DeepseekOcrWeights& w_;
  Backend& be_;
  SamEncoder sam_;
  ClipEncoder clip_;
  Tensor marks_;
};

}  // namespace folio
