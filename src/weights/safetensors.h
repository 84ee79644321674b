// The safetensors format: an 8-byte little-endian header length, a JSON header mapping
// tensor names to {dtype, shape, data_offsets}, then the raw little-endian data.
// Reading memory-maps the file; tensors are views into the map (no copy).
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/mapped_file.h"
#include "core/tensor.h"

namespace folio {

struct TensorInfo {
  DType dtype;
  Shape shape;
  uint64_t begin = 0, end = 0;  // byte offsets within the data section
};

class SafetensorsFile {
 public:
  // Validates the header completely (offsets inside the file, sizes equal dtype x shape,
  // known dtypes); throws invalid_input naming the file and the tensor.
  static std::shared_ptr<SafetensorsFile> open(const std::string& path);

  const std::string& path() const { return file_->path(); }
  const std::map<std::string, TensorInfo>& tensors() const { return infos_; }
  bool has(const std::string& name) const { return infos_.count(name) != 0; }
  // A view into the mapping; keeps the mapping alive.
  Tensor get(const std::string& name) const;
  void release_pages() const { file_->release_pages(); }

 private:
  std::shared_ptr<MappedFile> file_;
  const char* data_ = nullptr;
  std::map<std::string, TensorInfo> infos_;
};

// Streams tensors to a safetensors file without holding them all: add() records the
// header entry and a callback that writes the bytes; finish() writes everything.
class SafetensorsWriter {
 public:
  using Fill = std::function<void(char* dst)>;
  void add(const std::string& name, DType dtype, const Shape& shape, Fill fill);
  // Writes the file (to path + ".tmp", then renames). Throws on I/O failure.
  void write(const std::string& path) const;

 private:
  struct Entry {
    std::string name;
    DType dtype;
    Shape shape;
    Fill fill;
  };
  std::vector<Entry> entries_;
};

DType parse_safetensors_dtype(const std::string& s, const std::string& context);
const char* safetensors_dtype_name(DType dt);

}  // namespace folio
