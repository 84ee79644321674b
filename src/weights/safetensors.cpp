#include "weights/safetensors.h"

#include <cstdio>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace folio {

using nlohmann::json;

DType parse_safetensors_dtype(const std::string& s, const std::string& context) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  if (s == "I64") return DType::kI64;
  if (s == "I32") return DType::kI32;
  if (s == "U8") return DType::kU8;
  if (s == "I8") return DType::kI8;
  throw invalid_input(context + ": unsupported dtype " + s);
}

const char* safetensors_dtype_name(DType dt) { return dtype_name(dt); }

std::shared_ptr<SafetensorsFile> SafetensorsFile::open(const std::string& path) {
  auto st = std::make_shared<SafetensorsFile>();
  st->file_ = MappedFile::open(path);
  const size_t size = st->file_->size();
  if (size < 8) throw invalid_input(path + ": too short to be a safetensors file (" + std::to_string(size) + " bytes)");
  uint64_t header_len = 0;
  std::memcpy(&header_len, st->file_->data(), 8);
  if (header_len > 100u * 1024 * 1024 || 8 + header_len > size)
    throw invalid_input(path + ": header length " + std::to_string(header_len) + " does not fit the file (" +
                        std::to_string(size) + " bytes); the file is truncated or not safetensors");
  json header;
  try {
    header = json::parse(st->file_->data() + 8, st->file_->data() + 8 + header_len);
  } catch (const json::exception& e) {
    throw invalid_input(path + ": header is not valid JSON (" + e.what() + ")");
  }
  if (!header.is_object()) throw invalid_input(path + ": header is not a JSON object");
  st->data_ = st->file_->data() + 8 + header_len;
  const uint64_t data_size = size - 8 - header_len;
  for (auto it = header.begin(); it != header.end(); ++it) {
    if (it.key() == "__metadata__") continue;
    const std::string ctx = path + ": tensor '" + it.key() + "'";
    const json& v = it.value();
    if (!v.is_object() || !v.contains("dtype") || !v.contains("shape") || !v.contains("data_offsets"))
      throw invalid_input(ctx + ": entry lacks dtype, shape or data_offsets");
    TensorInfo info;
    try {
      info.dtype = parse_safetensors_dtype(v["dtype"].get<std::string>(), ctx);
      for (const auto& d : v["shape"]) {
        const int64_t n = d.get<int64_t>();
        if (n < 0) throw invalid_input(ctx + ": negative dimension");
        info.shape.push_back(n);
      }
      info.begin = v["data_offsets"].at(0).get<uint64_t>();
      info.end = v["data_offsets"].at(1).get<uint64_t>();
    } catch (const json::exception& e) {
      throw invalid_input(ctx + ": malformed entry (" + e.what() + ")");
    }
    uint64_t expect = dtype_size(info.dtype);
    for (int64_t d : info.shape) expect *= static_cast<uint64_t>(d);
    if (info.end < info.begin || info.end > data_size)
      throw invalid_input(ctx + ": data offsets [" + std::to_string(info.begin) + ", " + std::to_string(info.end) +
                          ") lie outside the data section (" + std::to_string(data_size) +
                          " bytes); the file is truncated");
    if (info.end - info.begin != expect)
      throw invalid_input(ctx + ": holds " + std::to_string(info.end - info.begin) + " bytes but " +
                          dtype_name(info.dtype) + " " + shape_str(info.shape) + " needs " + std::to_string(expect));
    st->infos_.emplace(it.key(), std::move(info));
  }
  return st;
}

Tensor SafetensorsFile::get(const std::string& name) const {
  auto it = infos_.find(name);
  if (it == infos_.end()) throw not_found(path() + ": no tensor named '" + name + "'");
  const TensorInfo& info = it->second;
  // The tensor view shares ownership of the mapping through an aliasing shared_ptr.
  std::shared_ptr<void> owner(file_, const_cast<char*>(data_ + info.begin));
  return Tensor::wrap(const_cast<char*>(data_ + info.begin), info.shape, info.dtype, owner);
}

void SafetensorsWriter::add(const std::string& name, DType dtype, const Shape& shape, Fill fill) {
  entries_.push_back({name, dtype, shape, std::move(fill)});
}

void SafetensorsWriter::write(const std::string& path) const {
  json header = json::object();
  uint64_t offset = 0;
  for (const auto& e : entries_) {
    uint64_t bytes = dtype_size(e.dtype);
    for (int64_t d : e.shape) bytes *= static_cast<uint64_t>(d);
    header[e.name] = {{"dtype", dtype_name(e.dtype)}, {"shape", e.shape}, {"data_offsets", {offset, offset + bytes}}};
    offset += bytes;
  }
  std::string h = header.dump();
  while ((h.size() + 8) % 8 != 0) h.push_back(' ');  // keep the data section 8-byte aligned
  const std::string tmp = path + ".tmp";
  FILE* f = std::fopen(tmp.c_str(), "wb");
  if (!f) throw internal_error(tmp + ": cannot create file");
  const uint64_t hl = h.size();
  bool ok = std::fwrite(&hl, 8, 1, f) == 1 && std::fwrite(h.data(), 1, h.size(), f) == h.size();
  std::vector<char> buf;
  for (const auto& e : entries_) {
    if (!ok) break;
    size_t bytes = dtype_size(e.dtype);
    for (int64_t d : e.shape) bytes *= static_cast<size_t>(d);
    buf.resize(bytes);
    e.fill(buf.data());
    ok = std::fwrite(buf.data(), 1, bytes, f) == bytes;
  }
  if (std::fclose(f) != 0) ok = false;
  if (!ok) {
    std::remove(tmp.c_str());
    throw internal_error(path + ": write failed (disk full?)");
  }
  std::filesystem::rename(tmp, path);
}

}  // namespace folio
