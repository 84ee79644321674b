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

// Key/value blocks shared by many sequences: per layer [blocks * block_size, heads*head_dim].
// Which blocks belong to which sequence is the engine's business (block tables).
struct PagedKvCache {
  std::vector<Tensor> k, v;
  int block_size = 0;
  int64_t blocks = 0;
};

// One decode step of a batch of B rows, every tensor on the backend's device (I32 unless
// noted) so that the step can be captured and replayed. Rows without a sequence are inactive
// (backend.h). The engine owns and fills these; the decoder reads them and writes logits.
struct DecodeBatch {
  Tensor tokens;       // [B] the input id of each row
  Tensor positions;    // [B] its position (= tokens already in the cache)
  Tensor seq_lens;     // [B] positions + 1: keys the row attends to, itself included
  Tensor slots;        // [B] the cache slot its key/value go to
  Tensor block_table;  // [B, max_blocks]
  Tensor logits;       // [B, vocab] F32, written by decode()
  int64_t rows() const { return tokens.numel(); }
};

class Decoder {
 public:
  Decoder(const DecoderConfig& cfg, const DecoderWeights& w, Backend& be) : cfg_(cfg), w_(w), be_(be) {}

  KvCache new_cache(int64_t capacity);

  // Runs `ids` at positions cache.length.. and appends them to the cache. Image rows
  // (image_embeds [N, hidden]) replace the embeddings where ids == image_token, in order.
  // Returns fp32 logits of the last position, on the host.
  // `route`, when set, sees (and may change) every MoE layer's choice (stage.h).
  std::vector<float> forward(KvCache& cache, const std::vector<int32_t>& ids, const Tensor* image_embeds,
                             int image_token, const Trace& t, const RouteHook& route = {});

  // Paged decoding (decoder_paged.cpp).
  PagedKvCache new_paged_cache(int64_t blocks, int block_size);
  // Runs a whole prompt from position 0 and stores its keys/values at `slots` ([T] I32 on the
  // device, one per prompt token). Returns the fp32 logits of the last position, on the host.
  std::vector<float> prefill_paged(PagedKvCache& cache, const Tensor& slots, const std::vector<int32_t>& ids,
                                   const Tensor* image_embeds, int image_token);
  // One prompt of a batched prefill: its ids and its image rows (nullptr: text only). The
  // pointers must stay valid for the call.
  struct PrefillSequence {
    const std::vector<int32_t>* ids = nullptr;
    const Tensor* image_embeds = nullptr;
  };
  // Several whole prompts from position 0 in ONE forward pass (decoder_prefill.cpp): their rows
  // are stacked [sum T, hidden] for every product and the MoE (routing on the device when
  // `routing_on_device`), attention stays inside each prompt (causal), and each prompt's keys/
  // values go to its `slots` ([sum T] I32 on the device, the prompts' slots in order). Returns
  // the fp32 logits of each prompt's last position, [n, vocab] row-major, on the host.
  std::vector<float> prefill_paged_batch(PagedKvCache& cache, const Tensor& slots,
                                         const std::vector<PrefillSequence>& seqs, int image_token,
                                         bool routing_on_device = true);
  // One token for every row of the batch; only backend ops with device indices, so the call
  // can be captured (Backend::capture) and replayed after the engine updates `b`.
  void decode_step(PagedKvCache& cache, DecodeBatch& b);

 private:
  Tensor embed(const std::vector<int32_t>& ids, const Tensor* image_embeds, int image_token);
  // The stacked prompts' attention of prefill_paged_batch: positions[sum T] (host), lengths
  // per prompt; keys/values are stored at `slots`.
  void prefill_attention_block(Tensor& h, const DecoderLayerWeights& lw, PagedKvCache& cache, int layer,
                               const std::vector<int32_t>& positions, const std::vector<int64_t>& lengths,
                               const Tensor& slots);
  void attention_block(Tensor& h, const DecoderLayerWeights& lw, KvCache& cache, int layer, int64_t start);
  void paged_attention_block(Tensor& h, const DecoderLayerWeights& lw, PagedKvCache& cache, int layer,
                             const DecodeBatch& b);
  // routing_on_device: router ids/weights stay on the device (decode steps, prefill); otherwise
  // they come to the host and the experts run as grouped products over host-known counts, and
  // `route` is called with `layer` before the experts run (conformance).
  void ffn_block(Tensor& h, const DecoderLayerWeights& lw, bool routing_on_device = false, int layer = -1,
                 const RouteHook* route = nullptr);
  // A decode step's FFN: the MoE through ffn_block's device routing, the dense layer through
  // the fused norm + products.
  void paged_ffn_block(Tensor& h, const DecoderLayerWeights& lw);
  AttentionSpec attention_spec() const;

  const DecoderConfig& cfg_;
  const DecoderWeights& w_;
  Backend& be_;
};

}  // namespace folio
