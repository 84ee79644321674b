// A random checkpoint of the "tiny" DeepSeek-OCR preset in a temporary folder of its own (one
// per name and process), removed with the object: the model the engine, admission and graph
// tests load. Hold one per test suite (SetUpTestSuite / TearDownTestSuite).
#pragma once
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <string>

#include "models/deepseek_ocr/random_checkpoint.h"
#include "models/deepseek_ocr/tensor_specs.h"

namespace folio::testing {

// An end-of-sequence id the random model never prefers, so decoding runs reach their limits.
constexpr int kUnreachedEos = 129279;

class TinyCheckpoint {
 public:
  // eos < 0 keeps the preset's end-of-sequence id.
  TinyCheckpoint(const std::string& name, uint64_t seed, int eos = -1)
      : dir_((std::filesystem::temp_directory_path() / ("folio_" + name + "_" + std::to_string(::getpid()))).string()) {
    DeepseekOcrConfig cfg = deepseek_ocr_preset("tiny");
    if (eos >= 0) cfg.lm.eos = eos;
    std::filesystem::remove_all(dir_);
    write_random_checkpoint(cfg, dir_, seed);
  }
  ~TinyCheckpoint() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  TinyCheckpoint(const TinyCheckpoint&) = delete;
  TinyCheckpoint& operator=(const TinyCheckpoint&) = delete;

  const std::string& dir() const { return dir_; }

 private:
  std::string dir_;
};

}  // namespace folio::testing
