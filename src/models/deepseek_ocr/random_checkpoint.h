// Writes a random DeepSeek-OCR checkpoint in the official hub layout (config.json, one
// safetensors shard plus model.safetensors.index.json), bf16, for benchmarks and tests.
// Deterministic for a seed. Weights are uniform with the variance of 1/fan_in so activations
// stay in range through the layers.
#pragma once
#include <cstdint>
#include <string>

#include "models/deepseek_ocr/config.h"

namespace folio {

struct RandomCheckpointStats {
  int64_t tensors = 0, parameters = 0, bytes = 0;
};

RandomCheckpointStats write_random_checkpoint(const DeepseekOcrConfig& cfg, const std::string& dir, uint64_t seed);

}  // namespace folio
