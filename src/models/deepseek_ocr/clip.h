// CLIP-L of DeepSeek-OCR (§3.2). It never sees pixels: SAM's output tokens replace its patch
// embeddings; a class token is prepended, positions resized to the grid, pre-LayerNorm, then
// pre-LN layers with quick_gelu MLPs and bidirectional attention. No final LayerNorm.
#pragma once
#include <map>

#include "models/deepseek_ocr/stage.h"

namespace folio {

class ClipEncoder {
 public:
  ClipEncoder(const ClipConfig& cfg, const ClipWeights& w, Backend& be) : cfg_(cfg), w_(w), be_(be) {}

  // sam: rows [B * g * g, width]. Returns [B, g*g + 1, width] (class token first).
  Tensor forward(const Tensor& sam, int batch, int grid, const Trace& t, const std::string& view);

 private:
  const Tensor& pos_for(int grid);

  const ClipConfig& cfg_;
  const ClipWeights& w_;
  Backend& be_;
  std::map<int, Tensor> pos_cache_;
};

}  // namespace folio
