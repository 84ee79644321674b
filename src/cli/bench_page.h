// The synthetic page that `folio bench` and `folio compare` run, so neither needs data files:
// an A4 scan at 144 dpi (1190 x 1684) with rows of dark text-like strokes on white, and the
// document prompt the engine would build for it.
#pragma once
#include <cstdint>
#include <vector>

#include "image/views.h"
#include "models/deepseek_ocr/model.h"
#include "text/sampling.h"

namespace folio {

// Deterministic for a seed.
Image synthetic_page(int width = 1190, int height = 1684, uint32_t seed = 7);
// BOS, the page's image placeholders, then 12 ordinary tokens standing for
// "\n<|grounding|>Convert the document to markdown." (same length, no tokenizer needed).
std::vector<int32_t> synthetic_prompt(const DeepseekOcrConfig& cfg, int64_t n_placeholders);

}  // namespace folio
