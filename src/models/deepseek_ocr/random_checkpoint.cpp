#include "models/deepseek_ocr/random_checkpoint.h"

#include <cmath>
#include <filesystem>
#include <fstream>

#include "core/bf16.h"
#include "core/error.h"
#include "core/parallel.h"
#include "models/deepseek_ocr/tensor_specs.h"
#include "weights/safetensors.h"

namespace folio {

namespace {

// splitmix64: a counter-based generator, so every element is independent of thread split.
inline uint64_t mix(uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

void fill_uniform_bf16(uint16_t* dst, int64_t n, float half_range, uint64_t seed) {
  parallel_for(n, 1 << 16, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) {
      const double u = (mix(seed ^ static_cast<uint64_t>(i)) >> 11) * (1.0 / 9007199254740992.0);
      dst[i] = f32_to_bf16(static_cast<float>((2.0 * u - 1.0) * half_range));
    }
  });
}

}  // namespace

RandomCheckpointStats write_random_checkpoint(const DeepseekOcrConfig& cfg, const std::string& dir, uint64_t seed) {
  std::filesystem::create_directories(dir);
  const std::string shard = "model-00001-of-000001.safetensors";
  SafetensorsWriter writer;
  RandomCheckpointStats stats;
  nlohmann::json weight_map = nlohmann::json::object();
  uint64_t tensor_seed = mix(seed);
  for (const TensorSpec& spec : deepseek_ocr_tensor_specs(cfg)) {
    int64_t n = 1;
    for (int64_t d : spec.shape) n *= d;
    int64_t fan_in = 1;
    for (size_t i = 1; i < spec.shape.size(); ++i) fan_in *= spec.shape[i];
    const float half_range = spec.init == TensorInit::kLinear ? std::sqrt(3.0f / static_cast<float>(fan_in))
                             : spec.init == TensorInit::kEmbedding ? 0.05f
                                                                    : 0.0f;
    const TensorInit init = spec.init;
    const uint64_t s = tensor_seed = mix(tensor_seed);
    writer.add(spec.name, DType::kBF16, spec.shape, [n, half_range, init, s](char* dst) {
      uint16_t* p = reinterpret_cast<uint16_t*>(dst);
      if (init == TensorInit::kOnes) {
        std::fill(p, p + n, f32_to_bf16(1.0f));
      } else if (init == TensorInit::kZeros) {
        std::fill(p, p + n, static_cast<uint16_t>(0));
      } else {
        fill_uniform_bf16(p, n, half_range, s);
      }
    });
    weight_map[spec.name] = shard;
    ++stats.tensors;
    stats.parameters += n;
  }
  stats.bytes = stats.parameters * 2;
  writer.write(dir + "/" + shard);
  nlohmann::json index = {{"metadata", {{"total_size", stats.bytes}}}, {"weight_map", weight_map}};
  std::ofstream(dir + "/model.safetensors.index.json") << index.dump(1) << "\n";
  std::ofstream(dir + "/config.json") << cfg.to_json().dump(2) << "\n";
  return stats;
}

}  // namespace folio
