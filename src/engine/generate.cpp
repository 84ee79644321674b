#include "engine/generate.h"

#include <chrono>
#include <cmath>

#include "core/error.h"
#include "text/loop_detector.h"

namespace folio {

namespace {
double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

GenerateResult generate(DeepseekOcrModel& model, const std::vector<int32_t>& prompt, const Tensor* image_embeds,
                        const GenerateOptions& o) {
  const DecoderConfig& lm = model.config().lm;
  const int64_t room = lm.max_positions - static_cast<int64_t>(prompt.size());
  if (room <= 0)
    throw too_large("the prompt takes " + std::to_string(prompt.size()) + " tokens; the model's context is " +
                    std::to_string(lm.max_positions));
  const int max_new = static_cast<int>(std::min<int64_t>(std::max(1, o.max_tokens), room));
  GenerateResult r;
  KvCache cache = model.new_cache(static_cast<int64_t>(prompt.size()) + max_new);
  auto t0 = std::chrono::steady_clock::now();
  std::vector<float> logits = model.forward(cache, prompt, image_embeds);
  r.prefill_ms = ms_since(t0);
  t0 = std::chrono::steady_clock::now();
  LoopDetector loops;
  r.reason = FinishReason::length;
  for (int step = 0; step < max_new; ++step) {
    if (o.cancel && o.cancel->load()) {
      r.reason = FinishReason::cancelled;
      break;
    }
    std::vector<int32_t> banned;
    if (o.ngram.enabled) banned = banned_next(r.tokens, o.ngram.ngram_size, o.ngram.window);
    const int32_t tok = greedy_pick(logits, banned);
    if (tok == lm.eos) {
      r.reason = FinishReason::stop;
      break;
    }
    r.tokens.push_back(tok);
    if (o.on_token) o.on_token(tok);
    if (o.detect_loops && loops.add(tok)) {
      r.reason = FinishReason::repetition;
      break;
    }
    if (step + 1 < max_new) logits = model.forward(cache, {tok}, nullptr);
  }
  r.decode_ms = ms_since(t0);
  return r;
}

}  // namespace folio
