// STAND-IN (serve branch only): lets the serve branch link before the lead's DeepSeek-OCR engine
// lands. The lead's engine/vlm_engine.cpp replaces this file at merge.
#include "core/error.h"
#include "engine/engine_factory.h"

namespace folio {

std::unique_ptr<OcrEngine> make_deepseek_engine(const EngineOptions& options) {
  throw unavailable("the DeepSeek-OCR engine is not part of this build yet (model folder " + options.model_dir +
                    "); run without --model to use the Tesseract engine");
}

}  // namespace folio
