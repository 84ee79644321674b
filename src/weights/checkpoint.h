// A model folder as published on the Hugging Face hub: config.json plus safetensors, either
// one file or shards listed in model.safetensors.index.json. Tensors are looked up by their
// official names and checked against the shape and dtypes the model expects; every failure
// names the tensor and the file. The checkpoint records which tensors were taken so the
// loader can report what it left unused.
#pragma once
#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "weights/safetensors.h"

namespace folio {

class Checkpoint {
 public:
  // Throws not_found when the folder or config.json is missing, invalid_input when a file
  // is malformed or the index names a shard that does not exist.
  static std::unique_ptr<Checkpoint> open(const std::string& dir);

  const std::string& dir() const { return dir_; }
  const nlohmann::json& config() const { return config_; }
  std::string config_path() const { return dir_ + "/config.json"; }

  bool has(const std::string& name) const { return where_.count(name) != 0; }
  // The tensor, checked: `shape` must match exactly (an empty shape skips the check), the
  // dtype must be one of BF16/F16/F32 unless `allowed` says otherwise.
  Tensor get(const std::string& name, const Shape& shape = {},
             const std::vector<DType>& allowed = {DType::kBF16, DType::kF16, DType::kF32});
  // Shape of a tensor without taking it (for widths read from the checkpoint).
  Shape shape_of(const std::string& name) const;
  // Which file holds a tensor (for messages).
  std::string file_of(const std::string& name) const;

  size_t tensor_count() const { return where_.size(); }
  size_t taken_count() const { return taken_.size(); }
  std::vector<std::string> untaken() const;
  // See MappedFile::release_pages.
  void release_pages() const {
    for (const auto& f : files_) f->release_pages();
  }

 private:
  std::string dir_;
  nlohmann::json config_;
  std::vector<std::shared_ptr<SafetensorsFile>> files_;
  std::map<std::string, size_t> where_;  // tensor name -> index into files_
  std::set<std::string> taken_;
};

}  // namespace folio
