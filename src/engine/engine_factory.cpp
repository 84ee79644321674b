#include "engine/engine_factory.h"

#include "core/error.h"

namespace folio {

std::unique_ptr<OcrEngine> make_engine(const EngineOptions& options) {
  const std::string& kind = options.engine;
  if (kind == "tesseract") return make_tesseract_engine(options);
  if (kind == "deepseek-ocr") {
    if (options.model_dir.empty()) throw invalid_input("--engine deepseek-ocr needs --model DIR (a DeepSeek-OCR folder)");
    return make_deepseek_engine(options);
  }
  if (kind == "auto" || kind.empty())
    return options.model_dir.empty() ? make_tesseract_engine(options) : make_deepseek_engine(options);
  throw invalid_input("unknown engine '" + kind + "' (expected auto, tesseract or deepseek-ocr)");
}

}  // namespace folio
