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

VisionEncoder::VisionEncoder(const DeepseekOcrConfig& cfg, const DeepseekOcrWeights& w, Backend& be)
    : cfg_(cfg), w_(w), be_(be), sam_(cfg.sam, w.sam, be), clip_(cfg.clip, w.clip, be) {}

Tensor VisionEncoder::encode_views(const std::vector<float>& pixels, int batch, int size, const Trace& t,
                                   const std::string& name) {
  const int g = size / 64;
  const int64_t tokens = int64_t(g) * g;
  Tensor sam = sam_.forward(pixels, batch, size, t, name);             // [B*g*g, Csam]
  Tensor clip = clip_.forward(sam, batch, g, t, name);                 // [B, g*g+1, Cclip]
  // Drop the class token: rows 1.. of every view.
  std::vector<int32_t> idx;
  idx.reserve(batch * tokens);
  for (int b = 0; b < batch; ++b)
    for (int64_t i = 0; i < tokens; ++i) idx.push_back(static_cast<int32_t>(b * (tokens + 1) + 1 + i));
  Tensor clip_tokens = be_.empty({batch * tokens, cfg_.clip.width}, be_.act_dtype());
  be_.gather_rows(clip.reshape({-1, cfg_.clip.width}), idx, clip_tokens);
  // CLIP first, SAM second along channels (§3.3).
  Tensor fused = be_.empty({batch * tokens, int64_t(cfg_.projector_in)}, be_.act_dtype());
  be_.concat_cols(clip_tokens, sam, fused);
  Tensor proj = linear_new(be_, fused, w_.projector);
  trace(t, "proj_" + name, proj);
  return proj;
}

Tensor VisionEncoder::encode(const ViewPixels& v, const Trace& t) {
  const int64_t H = cfg_.projector_out;
  const int gb = v.base_size / 64, gt = v.tile_size / 64;
  const int n_tiles = v.tiled() ? v.grid_w * v.grid_h : 0;
  if (v.tiled() && static_cast<int64_t>(v.tiles.size()) != int64_t(n_tiles) * 3 * v.tile_size * v.tile_size)
    throw internal_error("vision: tile pixels do not match the tile grid");

  // Tiles first (one batch), then the global view; their rows are concatenated in `src`
  // order [tiles..., global...] by gathering from two tensors via one combined index.
  Tensor proj_tiles, proj_global = encode_views(v.global, 1, v.base_size, t, "global");
  if (n_tiles) proj_tiles = encode_views(v.tiles, n_tiles, v.tile_size, t, "tiles");

  const int64_t rows = image_block_rows(v.base_size, v.tile_size, v.grid_w, v.grid_h, v.tiled());
  std::vector<int32_t> from_tiles, from_global;
  std::vector<float> addend(static_cast<size_t>(rows) * H, 0.0f);
  std::vector<float> nl = w_.image_newline.to_vector_f32(), sep = w_.view_separator.to_vector_f32();
  auto mark = [&](const std::vector<float>& vec) {
    std::copy(vec.begin(), vec.end(), addend.begin() + static_cast<int64_t>(from_tiles.size()) * H);
    from_tiles.push_back(-1);
    from_global.push_back(-1);
  };
  if (n_tiles) {
    // Stitched grid: row R = ty * gt + y, column C = tx * gt + x -> tile ty*w + tx, token y*gt + x.
    for (int R = 0; R < gt * v.grid_h; ++R) {
      for (int C = 0; C < gt * v.grid_w; ++C) {
        const int tile = (R / gt) * v.grid_w + C / gt;
        from_tiles.push_back(tile * gt * gt + (R % gt) * gt + C % gt);
        from_global.push_back(-1);
      }
      mark(nl);
    }
  }
  for (int r = 0; r < gb; ++r) {
    for (int c = 0; c < gb; ++c) {
      from_tiles.push_back(-1);
      from_global.push_back(r * gb + c);
    }
    mark(nl);
  }
  mark(sep);
  if (static_cast<int64_t>(from_tiles.size()) != rows) throw internal_error("vision: layout row count mismatch");

  Tensor embeds = be_.upload_f32(Tensor::from_f32(addend, {rows, H}));
  Tensor part = be_.empty({rows, H}, be_.act_dtype());
  be_.gather_rows(proj_global, from_global, part);
  be_.add(embeds, part, embeds);
  if (n_tiles) {
    be_.gather_rows(proj_tiles, from_tiles, part);
    be_.add(embeds, part, embeds);
  }
  trace(t, "image_embeds", embeds);
  return embeds;
}

}  // namespace folio
