// Every tensor of a DeepSeek-OCR checkpoint for a given config: official name, shape and how
// a random checkpoint initialises it. Used by `folio model random`; the loader's binding
// (weights.cpp) is tested against it by loading a random checkpoint.
#pragma once
#include <string>
#include <vector>

#include "core/tensor.h"
#include "models/deepseek_ocr/config.h"

namespace folio {

enum class TensorInit { kLinear, kOnes, kZeros, kEmbedding };

struct TensorSpec {
  std::string name;
  Shape shape;
  TensorInit init;
};

std::vector<TensorSpec> deepseek_ocr_tensor_specs(const DeepseekOcrConfig& cfg);

// Size presets for `folio model random`: "full" (the published model) and "tiny" (the
// conformance model's widths).
DeepseekOcrConfig deepseek_ocr_preset(const std::string& name);

}  // namespace folio
