// Builds the OCR engine the server and CLI use.
#pragma once
#include <memory>
#include <string>

#include "engine/ocr_engine.h"

namespace folio {

struct EngineOptions {
  std::string engine = "auto";   // auto | tesseract | deepseek-ocr
  std::string model_dir;         // DeepSeek-OCR folder (config.json + safetensors + tokenizer.json)
  std::string tokenizer_path;    // overrides <model_dir>/tokenizer.json
  std::string device = "cpu";    // cpu | cuda
  std::string weights = "bf16";  // decoder weights: bf16 (as stored) | int8 (CPU only)
  std::string encoder_weights = "bf16";  // vision encoder: bf16 (as stored) | int8 (CPU with AVX512-VNNI)
  std::string languages = "eng+chi_sim";  // Tesseract languages
  size_t gpu_memory_bytes = 0;   // CUDA budget; 0 = default
};

// auto: deepseek-ocr when model_dir is set, else tesseract. Throws Error naming what is wrong
// (missing folder, missing language data).
std::unique_ptr<OcrEngine> make_engine(const EngineOptions& options);

// The individual engines (engine/tesseract_engine.cpp, engine/vlm_engine.cpp).
std::unique_ptr<OcrEngine> make_tesseract_engine(const EngineOptions& options);
std::unique_ptr<OcrEngine> make_deepseek_engine(const EngineOptions& options);

}  // namespace folio
