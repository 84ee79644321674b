// DeepSeek-OCR loaded from a hub folder and bound to a backend. Immutable after load; the
// per-request state is the KvCache. Not thread-safe for concurrent forward calls on one
// backend (the engine serialises them).
#pragma once
#include <memory>
#include <string>

#include "models/deepseek_ocr/decoder.h"
#include "models/deepseek_ocr/vision.h"
#include "weights/checkpoint.h"

namespace folio {

class DeepseekOcrModel {
 public:
  // Throws Error naming the folder, file, field or tensor that is wrong.
  static std::unique_ptr<DeepseekOcrModel> load(const std::string& dir, Backend& backend,
                                                const WeightOptions& options = {});

  const DeepseekOcrConfig& config() const { return cfg_; }
  Backend& backend() { return be_; }
  const std::string& dir() const { return dir_; }
  // Whether the vision encoder runs int8 products (WeightOptions::int8_encoder, honoured).
  bool encoder_int8() const { return w_.encoder_int8(); }
  // Empty, or the reason the int8 encoder that `options` asked for is not in use: for the
  // caller to tell the user (the model itself does no I/O).
  std::string encoder_int8_note(const WeightOptions& options) const;

  Tensor encode(const ViewPixels& views, const Trace& t = {}) { return vision_->encode(views, t); }
  // Pages of one view geometry (views_batchable) in one encoder pass: their image blocks
  // stacked in order (VisionEncoder::encode_batch).
  Tensor encode_batch(const std::vector<const ViewPixels*>& pages) { return vision_->encode_batch(pages); }
  KvCache new_cache(int64_t capacity) { return decoder_->new_cache(capacity); }
  // The language model itself, for the batched engine's paged calls.
  Decoder& decoder() { return *decoder_; }
  std::vector<float> forward(KvCache& cache, const std::vector<int32_t>& ids, const Tensor* image_embeds,
                             const Trace& t = {}, const RouteHook& route = {}) {
    return decoder_->forward(cache, ids, image_embeds, cfg_.image_token, t, route);
  }

 private:
  DeepseekOcrModel(Backend& be) : be_(be) {}
  Backend& be_;
  std::string dir_;
  std::unique_ptr<Checkpoint> ck_;
  DeepseekOcrConfig cfg_;
  DeepseekOcrWeights w_;
  std::unique_ptr<VisionEncoder> vision_;
  std::unique_ptr<Decoder> decoder_;
};

}  // namespace folio
