#include "text/prompts.h"

#include "core/error.h"

namespace folio {
namespace {

constexpr std::string_view kImage = "<image>";

std::string_view strip(std::string_view s) {
  // Python str.strip() without arguments: ASCII whitespace is what matters for prompts.
  auto space = [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; };
  while (!s.empty() && space(s.front())) s.remove_prefix(1);
  while (!s.empty() && space(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

const std::vector<std::string>& prompt_tasks() {
  static const std::vector<std::string> tasks = {"document", "ocr", "free", "figure", "describe", "locate", "custom"};
  return tasks;
}

std::string prompt_for_task(std::string_view task, std::string_view phrase, std::string_view custom_text) {
  if (task == "document") return "<image>\n<|grounding|>Convert the document to markdown.";
  if (task == "ocr") return "<image>\n<|grounding|>OCR this image.";
  if (task == "free") return "<image>\nFree OCR.";
  if (task == "figure") return "<image>\nParse the figure.";
  if (task == "describe") return "<image>\nDescribe this image in detail.";
  if (task == "locate") {
    if (strip(phrase).empty()) throw invalid_input("task 'locate' needs a phrase to locate");
    return "<image>\nLocate <|ref|>" + std::string(phrase) + "<|/ref|> in the image.";
  }
  if (task == "custom") {
    if (strip(custom_text).empty()) throw invalid_input("task 'custom' needs a prompt text");
    if (custom_text.find(kImage) != std::string_view::npos) return std::string(custom_text);
    return "<image>\n" + std::string(custom_text);
  }
  std::string valid;
  for (const auto& t : prompt_tasks()) valid += (valid.empty() ? "" : ", ") + t;
  throw invalid_input("unknown task '" + std::string(task) + "' (valid: " + valid + ")");
}

std::vector<int32_t> build_input_ids(const Tokenizer& tokenizer, std::string_view prompt, int n_image_placeholders,
                                     int32_t bos, int32_t image_token) {
  if (n_image_placeholders < 0) throw invalid_input("number of image placeholders must not be negative");
  std::string_view text = strip(prompt);
  size_t at = text.find(kImage);
  if (at == std::string_view::npos) throw invalid_input("prompt must contain <image> exactly once (found none)");
  if (text.find(kImage, at + kImage.size()) != std::string_view::npos)
    throw invalid_input("prompt must contain <image> exactly once (found more than one)");
  std::vector<int32_t> ids{bos};
  auto before = tokenizer.encode(text.substr(0, at));
  ids.insert(ids.end(), before.begin(), before.end());
  ids.insert(ids.end(), static_cast<size_t>(n_image_placeholders), image_token);
  auto after = tokenizer.encode(text.substr(at + kImage.size()));
  ids.insert(ids.end(), after.begin(), after.end());
  return ids;
}

}  // namespace folio
