// The decode loop for one sequence: prefill the prompt (with the image block), then greedy
// steps with the windowed n-gram ban, stopping on EOS, the token limit, a detected loop or
// cancellation. Pure logic over the model: no I/O, no threads.
#pragma once
#include <atomic>
#include <functional>
#include <vector>

#include "engine/ocr_engine.h"
#include "models/deepseek_ocr/model.h"
#include "text/ngram_ban.h"
#include "text/sampling.h"

namespace folio {

struct GenerateOptions {
  int max_tokens = 8192;
  NgramOptions ngram;
  bool detect_loops = true;      // finish "repetition" when the output cycles (text/loop_detector.h)
  const std::atomic<bool>* cancel = nullptr;
  std::function<void(int32_t)> on_token;  // each generated id (EOS excluded)
};

struct GenerateResult {
  std::vector<int32_t> tokens;   // generated ids, EOS excluded
  FinishReason reason = FinishReason::stop;
  double prefill_ms = 0, decode_ms = 0;
};

GenerateResult generate(DeepseekOcrModel& model, const std::vector<int32_t>& prompt, const Tensor* image_embeds,
                        const GenerateOptions& options);

}  // namespace folio
