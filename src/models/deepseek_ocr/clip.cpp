#include "models/deepseek_ocr/clip.h"

#include <cmath>

#include "models/deepseek_ocr/pos_tables.h"

namespace folio {

const Tensor& ClipEncoder::pos_for(int grid) {
  auto it = pos_cache_.find(grid);
  if (it == pos_cache_.end())
    it = pos_cache_
             .emplace(grid, be_.to_device(clip_pos_embed_for_grid(w_.position_embedding, w_.class_embedding, grid)))
             .first;
  return it->second;
}

Tensor ClipEncoder::forward(const Tensor& sam, int batch, int grid, const Trace& t, const std::string& view) {
  const int64_t tokens = int64_t(grid) * grid + 1, C = cfg_.width;
  // [B, 1 + g*g, C]: a zero row where the class token goes, SAM tokens after it; the class
  // embedding arrives with the position table (its row 0 holds class + position 0).
  std::vector<int32_t> idx;
  idx.reserve(batch * tokens);
  for (int b = 0; b < batch; ++b) {
    idx.push_back(-1);
    for (int64_t i = 0; i < tokens - 1; ++i) idx.push_back(static_cast<int32_t>(b * (tokens - 1) + i));
  }
  Tensor x = be_.empty({batch, tokens, C}, be_.residual_dtype());
  be_.gather_rows(sam, idx, x);
  be_.add_broadcast(x, pos_for(grid));
  be_.layer_norm(x, w_.pre_norm.w, w_.pre_norm.b, cfg_.eps, x);

  const int heads = cfg_.heads, hd = static_cast<int>(C / heads);
  AttentionSpec spec;
  spec.heads = heads;
  spec.head_dim = hd;
  spec.scale = 1.0f / std::sqrt(static_cast<float>(hd));
  spec.int8 = w_.int8;
  for (const ClipLayerWeights& lw : w_.layers) {
    Tensor xn = vision_layer_norm(be_, x, lw.ln1, cfg_.eps);
    Qkv qkv = project_qkv(be_, xn, lw.qkv);
    Tensor a = be_.empty(x.shape(), be_.vision_dtype());
    be_.attention(qkv.q, qkv.k, qkv.v, a, spec);
    // The residual adds and the MLP ride on the products (fused by backends that can).
    be_.linear_then(a, lw.out.w, lw.out.bias(), Backend::LinearThen::kAddTo, x);
    Tensor hn = vision_layer_norm(be_, x, lw.ln2, cfg_.eps);
    be_.mlp_add(hn, lw.fc1.w, lw.fc1.bias(), Backend::LinearThen::kQuickGelu, lw.fc2.w, lw.fc2.bias(), x);
  }
  trace(t, "clip_" + view, x);
  return x;
}

}  // namespace folio
