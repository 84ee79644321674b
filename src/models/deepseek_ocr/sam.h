// SAM ViT-B image encoder of DeepSeek-OCR (§3.1): patch embedding, position embedding
// resized to the grid, pre-LN blocks with windowed (14x14, unmasked zero padding) or global
// attention and decomposed relative-position bias, then the neck and the two stride-2
// convolutions. No activation or norm after the neck.
#pragma once
#include <map>
#include <vector>

#include "models/deepseek_ocr/stage.h"

namespace folio {

class SamEncoder {
 public:
  SamEncoder(const SamConfig& cfg, const SamWeights& w, Backend& be) : cfg_(cfg), w_(w), be_(be) {}

  // pixels: host f32 [B, 3, S, S] (normalised, bf16-rounded). Returns the net_3 output
  // channels-last [B, S/64, S/64, down2] as rows [B * g * g, down2].
  Tensor forward(const std::vector<float>& pixels, int batch, int size, const Trace& t, const std::string& view);
  // The same for views held apart: each pointer is one view's [3, S, S] host f32 pixels (the
  // batched encoder passes several pages' views without stacking them on the host).
  Tensor forward_views(const std::vector<const float*>& views, int size, const Trace& t, const std::string& view);

 private:
  // Patch rows [B*G*G, 3*P*P] (column order c, ky, kx) built on the device from the views.
  Tensor patch_rows(const std::vector<const float*>& views, int size);
  // One block; x (the residual stream) is updated in place and returned.
  Tensor block(Tensor x, int index, int batch, int grid);
  // The attention of block `index` over grid x grid tokens (a window or a view).
  AttentionSpec attention_spec(int index, int grid);
  // A windowed block's attention before the output projection, [batch*grid*grid, C] in grid
  // order from the residual stream x: q/k/v projected on the grid and the windows read in
  // place by the backend (Backend::window_attention_in_place), or the windows cut first.
  Tensor windows_on_grid(const Tensor& x, const SamBlockWeights& bw, const AttentionSpec& spec, int batch, int grid);
  Tensor windows_cut(const Tensor& x, const SamBlockWeights& bw, const AttentionSpec& spec, int batch, int grid);
  Tensor conv3x3(const Tensor& x, const Tensor& w, int batch, int grid, int channels, int stride);
  const Tensor& pos_for(int grid);
  const std::pair<Tensor, Tensor>& rel_tables_for(int block, int grid);

  const SamConfig& cfg_;
  const SamWeights& w_;
  Backend& be_;
  std::map<int, Tensor> pos_cache_;                                  // grid -> [G*G, width]
  std::map<std::pair<int, int>, std::pair<Tensor, Tensor>> rel_cache_;  // (block, grid) -> tables
};

}  // namespace folio
