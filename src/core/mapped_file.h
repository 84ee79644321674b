// A read-only memory map of a whole file. Weight tensors point straight into it, so a
// checkpoint costs page cache, not heap. Move-only; unmapped when the last owner goes.
#pragma once
#include <cstddef>
#include <memory>
#include <string>

namespace folio {

class MappedFile {
 public:
  // Throws Error(kNotFound / kInvalidInput) naming the path.
  static std::shared_ptr<MappedFile> open(const std::string& path);
  ~MappedFile();
  MappedFile(const MappedFile&) = delete;
  MappedFile& operator=(const MappedFile&) = delete;

  const char* data() const { return data_; }
  size_t size() const { return size_; }
  const std::string& path() const { return path_; }
  // Drops the resident pages (they are read again from the file when touched): after
  // weights were copied out (quantised), so they stop counting against memory.
  void release_pages() const;

 private:
  MappedFile() = default;
  const char* data_ = nullptr;
  size_t size_ = 0;
  std::string path_;
};

}  // namespace folio
