#include "models/deepseek_ocr/sam.h"

#include <cmath>

#include "core/error.h"
#include "models/deepseek_ocr/pos_tables.h"

namespace folio {

const Tensor& SamEncoder::pos_for(int grid) {
  auto it = pos_cache_.find(grid);
  if (it == pos_cache_.end())
    it = pos_cache_.emplace(grid, be_.to_device(sam_pos_embed_for_grid(w_.pos_embed, grid))).first;  // f32: added to the f32 residual
  return it->second;
}

const std::pair<Tensor, Tensor>& SamEncoder::rel_tables_for(int block, int grid) {
  auto key = std::make_pair(block, grid);
  auto it = rel_cache_.find(key);
  if (it == rel_cache_.end()) {
    const SamBlockWeights& bw = w_.blocks.at(block);
    it = rel_cache_
             .emplace(key, std::make_pair(be_.to_device(rel_pos_for_length(bw.rel_pos_h, 2 * grid - 1)),
                                          be_.to_device(rel_pos_for_length(bw.rel_pos_w, 2 * grid - 1))))
             .first;
  }
  return it->second;
}

Tensor SamEncoder::forward(const std::vector<float>& pixels, int batch, int size, const Trace& t, const std::string& view) {
  if (static_cast<int64_t>(pixels.size()) != int64_t(batch) * 3 * size * size)
    throw internal_error("SAM: pixels do not hold " + std::to_string(batch) + " views of " + std::to_string(size) + "^2");
  std::vector<const float*> views;
  for (int b = 0; b < batch; ++b) views.push_back(pixels.data() + int64_t(b) * 3 * size * size);
  return forward_views(views, size, t, view);
}

// The patch embedding is a 16x16 stride-16 convolution: its im2col runs on the device over
// each colour plane as a one-channel image, and a row gather puts the three planes' patches
// side by side. The host only copies the pixels out (no per-patch loop, no host buffers sized
// by the batch, which the batched encoder would otherwise fill with page faults).
Tensor SamEncoder::patch_rows(const std::vector<const float*>& views, int size) {
  const int P = cfg_.patch, G = size / P;
  const int64_t B = static_cast<int64_t>(views.size()), GG = int64_t(G) * G;
  // The planes are in the vision dtype: the patch rows are converted to it anyway, and a
  // 16-bit view is half the bytes to convert, stage and copy (6 MB instead of 12 for Base).
  Tensor planes = be_.empty({B * 3, size, size, 1}, be_.vision_dtype());
  for (int64_t b = 0; b < B; ++b) {
    Tensor view = planes.rows(b * 3, b * 3 + 3);
    const Tensor host = Tensor::wrap(const_cast<float*>(views[b]), view.shape(), DType::kF32, nullptr, Device::kCPU);
    be_.write(view, host);
  }
  Tensor cols = be_.empty({B * 3 * GG, int64_t(P) * P}, be_.vision_dtype());
  be_.im2col(planes, P, P, 0, cols);
  // Row (b, g, c) of the output <- row (b, c, g) of cols; then [B*G*G, 3*P*P], converted to
  // the vision dtype by the gather.
  std::vector<int32_t> idx(static_cast<size_t>(B * GG * 3));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t g = 0; g < GG; ++g)
      for (int c = 0; c < 3; ++c) idx[(b * GG + g) * 3 + c] = static_cast<int32_t>((b * 3 + c) * GG + g);
  Tensor patches = be_.empty({B * GG * 3, int64_t(P) * P}, be_.vision_dtype());
  be_.gather_rows(cols, idx, patches);
  return patches.reshape({B * GG, int64_t(3) * P * P});
}

Tensor SamEncoder::forward_views(const std::vector<const float*>& views, int size, const Trace& t, const std::string& view) {
  const int P = cfg_.patch, G = size / P, C = cfg_.width;
  const int batch = static_cast<int>(views.size());
  if (batch < 1 || size % (P * 4) != 0)
    throw internal_error("SAM: " + std::to_string(batch) + " views of " + std::to_string(size) + "^2");
  Tensor x = to_residual(be_, vision_linear(be_, patch_rows(views, size), w_.patch_embed));  // [B*G*G, C]
  x = x.reshape({batch, int64_t(G) * G, C});
  be_.add_broadcast(x, pos_for(G));
  x = x.reshape({int64_t(batch) * G * G, C});

  for (int i = 0; i < cfg_.layers; ++i) x = block(x, i, batch, G);

  // Neck: 1x1 conv (a linear over channels), LayerNorm2d, 3x3 conv, LayerNorm2d.
  Tensor n = linear_new(be_, x, w_.neck0, nullptr, be_.vision_dtype());
  be_.layer_norm(n, w_.neck1.w, w_.neck1.b, cfg_.eps, n);
  n = conv3x3(n, w_.neck2, batch, G, cfg_.neck, 1);
  be_.layer_norm(n, w_.neck3.w, w_.neck3.b, cfg_.eps, n);
  Tensor d1 = conv3x3(n, w_.net2, batch, G, cfg_.neck, 2);               // [B*(G/2)^2, down1]
  Tensor d2 = conv3x3(d1, w_.net3, batch, G / 2, cfg_.down1, 2);         // [B*(G/4)^2, down2]
  trace(t, "sam_" + view, d2);
  return d2;
}

Tensor SamEncoder::conv3x3(const Tensor& x, const Tensor& w, int batch, int grid, int channels, int stride) {
  const int out_grid = (grid + 2 - 3) / stride + 1;
  Tensor cols = be_.empty({int64_t(batch) * out_grid * out_grid, int64_t(channels) * 9}, be_.vision_dtype());
  be_.im2col(x.reshape({batch, grid, grid, channels}), 3, stride, 1, cols);
  return linear_new(be_, cols, w, nullptr, be_.vision_dtype());
}

Tensor SamEncoder::block(Tensor x, int index, int batch, int grid) {
  const SamBlockWeights& bw = w_.blocks.at(index);
  Tensor attn;
  if (bw.global) {
    Tensor xn = vision_layer_norm(be_, x, bw.norm1, cfg_.eps);
    Qkv qkv = project_qkv(be_, xn, bw.qkv);
    const Shape views{batch, int64_t(grid) * grid, cfg_.width};
    attn = be_.empty(views, be_.vision_dtype());
    be_.attention(qkv.q.reshape(views), qkv.k.reshape(views), qkv.v.reshape(views), attn, attention_spec(index, grid));
    attn = attn.reshape({-1, cfg_.width});
  } else {
    AttentionSpec spec = attention_spec(index, cfg_.window);
    spec.window_source_grid = grid;
    attn = be_.window_attention_in_place(spec) ? windows_on_grid(x, bw, spec, batch, grid)
                                               : windows_cut(x, bw, spec, batch, grid);
  }
  // The output projection is per token, so it runs after the windows are merged (no work on
  // their padding) and adds into the residual stream (fused by backends that can).
  be_.linear_then(attn, bw.proj.w, bw.proj.bias(), Backend::LinearThen::kAddTo, x);
  Tensor hn = vision_layer_norm(be_, x, bw.norm2, cfg_.eps);
  // MLP added to the residual (fused by backends that can).
  be_.mlp_add(hn, bw.lin1.w, bw.lin1.bias(), Backend::LinearThen::kGeluErf, bw.lin2.w, bw.lin2.bias(), x);
  return x;
}

// SAM pads the normalised grid with zero tokens to whole windows: their projections are the
// bias, computed once as a row after the grid's tokens, and the backend reads the windows from
// the projected grid (Backend::window_attention): no product on the 804 padding rows of a
// 1024-px view's 4,900 window rows, no copies of the windows.
Tensor SamEncoder::windows_on_grid(const Tensor& x, const SamBlockWeights& bw, const AttentionSpec& spec, int batch,
                                   int grid) {
  const int64_t tokens = int64_t(batch) * grid * grid;
  Tensor xn = be_.empty({tokens + 1, cfg_.width}, be_.vision_dtype());
  Tensor grid_rows = xn.rows(0, tokens), zero_row = xn.rows(tokens, tokens + 1);
  be_.layer_norm(x, bw.norm1.w, bw.norm1.b, cfg_.eps, grid_rows);
  be_.gather_rows(x, {-1}, zero_row);
  Qkv qkv = project_qkv(be_, xn, bw.qkv);
  Tensor attn = be_.empty({tokens, cfg_.width}, be_.vision_dtype());
  be_.window_attention(qkv.q, qkv.k, qkv.v, attn, spec);
  return attn;
}

// The windows cut from the normalised grid (zero rows for the padding), projected, and their
// real tokens' outputs put back in grid order.
Tensor SamEncoder::windows_cut(const Tensor& x, const SamBlockWeights& bw, const AttentionSpec& spec, int batch,
                               int grid) {
  const int win = cfg_.window, nw = (grid + win - 1) / win;
  const int64_t tokens = int64_t(batch) * grid * grid;
  std::vector<int32_t> cut = window_token_rows(batch, grid, win);
  const std::vector<int32_t> merge = window_merge_rows(cut, tokens);
  for (int32_t& r : cut)
    if (r == tokens) r = -1;  // zero padding
  Tensor xn = vision_layer_norm(be_, x, bw.norm1, cfg_.eps);
  Tensor windows = be_.empty({int64_t(batch) * nw * nw, int64_t(win) * win, cfg_.width}, be_.vision_dtype());
  be_.gather_rows(xn, cut, windows);
  Qkv qkv = project_qkv(be_, windows, bw.qkv);
  Tensor wa = be_.empty(windows.shape(), be_.vision_dtype());
  be_.attention(qkv.q, qkv.k, qkv.v, wa, spec);  // window_source_grid: the padding's query rows may be skipped
  Tensor attn = be_.empty({tokens, cfg_.width}, be_.vision_dtype());
  be_.gather_rows(wa.reshape({-1, cfg_.width}), merge, attn);
  return attn;
}

AttentionSpec SamEncoder::attention_spec(int index, int grid) {
  const int heads = cfg_.heads, hd = cfg_.width / heads;
  AttentionSpec spec;
  spec.heads = heads;
  spec.head_dim = hd;
  spec.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  spec.grid_h = spec.grid_w = grid;
  spec.int8 = w_.int8;
  // Windowed blocks use their 27-row tables as stored; global blocks resize theirs to the grid.
  const auto& tabs = rel_tables_for(index, grid);
  spec.rel_pos_h = tabs.first;
  spec.rel_pos_w = tabs.second;
  return spec;
}

}  // namespace folio
