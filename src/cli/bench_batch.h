// `folio bench --concurrency C`: N pages through the continuous-batching engine with at most
// C decoded together, the way a server sees them when C clients keep one page each in flight
// (all N submitted at once, C admitted at a time).
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

#include "models/deepseek_ocr/model.h"

namespace folio {

struct BatchBenchArgs {
  std::string mode = "base";
  int pages = 8, concurrency = 8, max_tokens = 1000;
  bool ignore_eos = true;
  bool graphs = true;
  int block_size = 32;
  int max_admit = 16;      // requests admitted together (BatchEngineOptions::max_admit)
  int64_t gpu_memory = 0;  // bytes for the whole process on the device (0: enough KV for C pages)
};

nlohmann::json bench_batch(DeepseekOcrModel& model, const BatchBenchArgs& args);

}  // namespace folio
