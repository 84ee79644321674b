// DeepSeek-OCR prompts (model doc 5.1) and the prompt -> input ids layout (5.2):
//   [BOS] + tok(text before <image>) + [image_token x n_placeholders] + tok(text after <image>)
// The prompt is stripped of leading/trailing whitespace first (the official "plain" template).
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "text/tokenizer.h"

namespace folio {

// Tasks: "document", "ocr", "free", "figure", "describe", "locate" (needs `phrase`), "custom"
// (uses `custom_text`; "<image>\n" is prepended when it has no "<image>").
// Unknown task -> invalid_input listing the valid ones.
std::string prompt_for_task(std::string_view task, std::string_view phrase = {}, std::string_view custom_text = {});

// The valid task names, in the order above.
const std::vector<std::string>& prompt_tasks();

// Throws invalid_input unless the stripped prompt contains exactly one "<image>".
std::vector<int32_t> build_input_ids(const Tokenizer& tokenizer, std::string_view prompt, int n_image_placeholders,
                                     int32_t bos = 0, int32_t image_token = 128815);

}  // namespace folio
