// The DeepSeek-V2 MoE language model of DeepSeek-OCR (§3.7): token embeddings with the image
// block scattered over the placeholder positions, pre-RMSNorm layers with plain multi-head
// attention (NeoX RoPE over the whole head) and either a dense SwiGLU (layer 0) or a routed
// MoE (softmax router, top-k, no renormalisation) plus shared experts; final RMSNorm, lm_head.
#pragma once
#include <vector>

#include "models/deepseek_ocr/stage.h"

namespace folio {

// Per-sequence key/value cache: per layer [capacity, heads*head_dim] for keys and values.
struct KvCache {
  std::vector<Tensor> k, v;
  int64_t length = 0;
  int64_t capacity = 0;
};

class Decoder {
 public:
  Decoder(const DecoderConfig& cfg, const DecoderWeights& w, Backend& be) : cfg_(cfg), w_(w), be_(be) {}

  KvCache new_cache(int64_t capacity);

  // Runs `ids` at positions cache.length.. and appends them to the cache. Image rows
  // (image_embeds [N, hidden]) replace the embeddings where ids == image_token, in order.
  // Returns fp32 logits of the last position, on the host.
  std::vector<float> forward(KvCache& cache, const std::vector<int32_t>& ids, const Tensor* image_embeds,
                             int image_token, const Trace& t);

 private:
  Tensor embed(const std::vector<int32_t>& ids, const Tensor* image_embeds, int image_token);
  void attention_block(Tensor& h, const DecoderLayerWeights& lw, KvCache& cache, int layer, int64_t start);
  void ffn_block(Tensor& h, const DecoderLayerWeights& lw);

  const DecoderConfig& cfg_;
  const DecoderWeights& w_;
  Backend& be_;
};

}  // namespace folio
