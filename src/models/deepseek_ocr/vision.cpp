#include "models/deepseek_ocr/vision.h"

#include "core/error.h"

namespace folio {

ViewPixels view_pixels(const PageViews& v) {
  ViewPixels px;
  px.global = to_model_pixels(v.global);
  px.base_size = v.base_size;
  px.tile_size = v.tile_size;
  px.grid_w = v.grid_w;
  px.grid_h = v.grid_h;
  for (const Image& t : v.tiles) {
    const std::vector<float> p = to_model_pixels(t);
    px.tiles.insert(px.tiles.end(), p.begin(), p.end());
  }
  return px;
}

int64_t image_block_rows(int base_size, int tile_size, int grid_w, int grid_h, bool tiled) {
  const int64_t gb = base_size / 64, gt = tile_size / 64;
  int64_t rows = gb * (gb + 1) + 1;
  if (tiled) rows += (gt * grid_w + 1) * (gt * grid_h);
  return rows;
}

bool views_batchable(const ViewPixels& a, const ViewPixels& b) {
  return a.base_size == b.base_size && (!a.tiled() || !b.tiled() || a.tile_size == b.tile_size);
}

int64_t encoder_activation_bytes(const ViewPixels& v, int sam_width) {
  // SAM holds at most ~20 bytes per channel per token at once (fp32 residual and its copy,
  // the normalised rows, the 4x MLP rows in bf16) plus the fp32 patch rows being uploaded;
  // 32 per channel leaves room for window padding and CLIP's smaller rows.
  const int64_t gb = v.base_size / 16, gt = v.tile_size / 16;
  const int64_t tokens = gb * gb + (v.tiled() ? int64_t(v.grid_w) * v.grid_h * gt * gt : 0);
  return tokens * sam_width * 32;
}

VisionEncoder::VisionEncoder(const DeepseekOcrConfig& cfg, const DeepseekOcrWeights& w, Backend& be)
    : cfg_(cfg), w_(w), be_(be), sam_(cfg.sam, w.sam, be), clip_(cfg.clip, w.clip, be) {}

Tensor VisionEncoder::encode_views(const std::vector<const float*>& views, int size, const Trace& t,
                                   const std::string& name) {
  const int g = size / 64, batch = static_cast<int>(views.size());
  const int64_t tokens = int64_t(g) * g;
  Tensor sam = sam_.forward_views(views, size, t, name);              // [B*g*g, Csam]
  Tensor clip = clip_.forward(sam, batch, g, t, name);                 // [B, g*g+1, Cclip]
  // Drop the class token: rows 1.. of every view.
  std::vector<int32_t> idx;
  idx.reserve(batch * tokens);
  for (int b = 0; b < batch; ++b)
    for (int64_t i = 0; i < tokens; ++i) idx.push_back(static_cast<int32_t>(b * (tokens + 1) + 1 + i));
  Tensor clip_tokens = be_.empty({batch * tokens, cfg_.clip.width}, be_.vision_dtype());
  be_.gather_rows(clip.reshape({-1, cfg_.clip.width}), idx, clip_tokens);
  // CLIP first, SAM second along channels (§3.3).
  Tensor fused = be_.empty({batch * tokens, int64_t(cfg_.projector_in)}, be_.vision_dtype());
  be_.concat_cols(clip_tokens, sam, fused);
  Tensor proj = vision_linear(be_, fused, w_.projector);
  trace(t, "proj_" + name, proj);
  return proj;
}

Tensor VisionEncoder::encode(const ViewPixels& v, const Trace& t) { return encode_batch({&v}, t); }

const Tensor& VisionEncoder::marks() {
  if (!marks_.defined()) {
    std::vector<float> rows = w_.image_newline.to_vector_f32(), sep = w_.view_separator.to_vector_f32();
    rows.insert(rows.end(), sep.begin(), sep.end());
    marks_ = be_.to_device(Tensor::from_f32(rows, {2, int64_t(cfg_.projector_out)}));  // f32, converted by the gathers
  }
  return marks_;
}

Tensor VisionEncoder::encode_batch(const std::vector<const ViewPixels*>& pages, const Trace& t) {
  if (pages.empty()) throw internal_error("vision: encode_batch needs at least one page");
  const int64_t H = cfg_.projector_out;
  const ViewPixels& first = *pages.front();
  const ViewPixels* first_tiled = nullptr;
  int total_tiles = 0;
  for (const ViewPixels* p : pages) {
    if (!views_batchable(first, *p) || (first_tiled && !views_batchable(*first_tiled, *p)))
      throw internal_error("vision: pages of one encoder batch must share the base and tile sizes");
    const int n = p->tiled() ? p->grid_w * p->grid_h : 0;
    if (p->tiled() && static_cast<int64_t>(p->tiles.size()) != int64_t(n) * 3 * p->tile_size * p->tile_size)
      throw internal_error("vision: tile pixels do not match the tile grid");
    if (static_cast<int64_t>(p->global.size()) != int64_t(3) * p->base_size * p->base_size)
      throw internal_error("vision: global view pixels do not match the base size");
    if (n && !first_tiled) first_tiled = p;
    total_tiles += n;
  }
  const int n_pages = static_cast<int>(pages.size());
  const int gb = first.base_size / 64;

  // All global views as one batch, all tiles as another; the pages' pixels stay where they are.
  std::vector<const float*> globals, tiles;
  for (const ViewPixels* p : pages) {
    globals.push_back(p->global.data());
    const int64_t per_tile = int64_t(3) * p->tile_size * p->tile_size;
    for (int i = 0; p->tiled() && i < p->grid_w * p->grid_h; ++i) tiles.push_back(p->tiles.data() + i * per_tile);
  }
  Tensor proj_tiles, proj_global = encode_views(globals, first.base_size, t, "global");
  if (total_tiles) proj_tiles = encode_views(tiles, first_tiled->tile_size, t, "tiles");

  // Every output row comes from exactly one source: a tile token, a global token, or a mark
  // (0 = newline, 1 = view separator). Three gathers with -1 elsewhere (zero rows), summed.
  std::vector<int32_t> from_tiles, from_global, from_marks;
  auto push = [&](int32_t tile, int32_t global, int32_t mark) {
    from_tiles.push_back(tile);
    from_global.push_back(global);
    from_marks.push_back(mark);
  };
  int32_t tile_base = 0;
  for (int pi = 0; pi < n_pages; ++pi) {
    const ViewPixels& v = *pages[pi];
    const size_t page_start = from_tiles.size();
    if (v.tiled()) {
      // Stitched grid: row R = ty * gt + y, column C = tx * gt + x -> tile ty*w + tx, token y*gt + x.
      const int gt = v.tile_size / 64;
      for (int R = 0; R < gt * v.grid_h; ++R) {
        for (int C = 0; C < gt * v.grid_w; ++C) {
          const int tile = (R / gt) * v.grid_w + C / gt;
          push(tile_base + tile * gt * gt + (R % gt) * gt + C % gt, -1, -1);
        }
        push(-1, -1, 0);
      }
      tile_base += v.grid_w * v.grid_h * gt * gt;
    }
    const int32_t global_base = pi * gb * gb;
    for (int r = 0; r < gb; ++r) {
      for (int c = 0; c < gb; ++c) push(-1, global_base + r * gb + c, -1);
      push(-1, -1, 0);
    }
    push(-1, -1, 1);
    if (static_cast<int64_t>(from_tiles.size() - page_start) !=
        image_block_rows(v.base_size, v.tile_size, v.grid_w, v.grid_h, v.tiled()))
      throw internal_error("vision: layout row count mismatch");
  }

  const int64_t rows = static_cast<int64_t>(from_tiles.size());
  // In the vision dtype: the decoder adds these rows to its fp32 residual stream as they are.
  Tensor embeds = be_.empty({rows, H}, be_.vision_dtype());
  be_.gather_rows(marks(), from_marks, embeds);
  Tensor part = be_.empty({rows, H}, be_.vision_dtype());
  be_.gather_rows(proj_global, from_global, part);
  be_.add(embeds, part, embeds);
  if (total_tiles) {
    be_.gather_rows(proj_tiles, from_tiles, part);
    be_.add(embeds, part, embeds);
  }
  trace(t, "image_embeds", embeds);
  return embeds;
}

}  // namespace folio
