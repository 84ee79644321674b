// The DeepSeek-OCR engine behind the OcrEngine interface: views -> vision encoder -> prompt
// -> greedy decoding -> grounding blocks and Markdown. One model, one backend; pages run one
// at a time (a mutex), which is what the CPU can do anyway.
#pragma once
#include <memory>
#include <mutex>

#include "engine/engine_factory.h"
#include "models/deepseek_ocr/model.h"
#include "text/tokenizer.h"

namespace folio {

class VlmEngine final : public OcrEngine {
 public:
  // tokenizer_path empty: <model_dir>/tokenizer.json.
  explicit VlmEngine(const EngineOptions& options);
  EngineInfo info() const override;
  PageResult run(const PageRequest& request, const EngineCallbacks& callbacks) override;

 private:
  std::unique_ptr<Backend> backend_;
  std::unique_ptr<DeepseekOcrModel> model_;
  std::unique_ptr<Tokenizer> tokenizer_;
  std::string device_;
  std::mutex mu_;
};

}  // namespace folio
