#include "weights/checkpoint.h"

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "weights/json_file.h"

namespace folio {

namespace fs = std::filesystem;
using nlohmann::json;

std::unique_ptr<Checkpoint> Checkpoint::open(const std::string& dir) {
  if (!fs::is_directory(dir)) throw not_found(dir + ": model folder not found");
  auto ck = std::make_unique<Checkpoint>();
  ck->dir_ = dir;
  if (!fs::exists(ck->config_path())) throw not_found(ck->config_path() + ": missing (every model folder has config.json)");
  ck->config_ = read_json_file(ck->config_path());
  if (!ck->config_.is_object()) throw invalid_input(ck->config_path() + ": not a JSON object");

  std::vector<std::string> shard_names;
  const std::string index_path = dir + "/model.safetensors.index.json";
  if (fs::exists(index_path)) {
    json index = read_json_file(index_path);
    if (!index.contains("weight_map") || !index["weight_map"].is_object())
      throw invalid_input(index_path + ": no weight_map object");
    std::set<std::string> seen;
    for (auto it = index["weight_map"].begin(); it != index["weight_map"].end(); ++it) {
      if (!it.value().is_string()) throw invalid_input(index_path + ": weight_map['" + it.key() + "'] is not a file name");
      const std::string f = it.value().get<std::string>();
      if (f.find('/') != std::string::npos || f.find("..") != std::string::npos)
        throw invalid_input(index_path + ": shard name '" + f + "' must be a plain file name");
      if (seen.insert(f).second) shard_names.push_back(f);
    }
  } else {
    for (const auto& e : fs::directory_iterator(dir))
      if (e.path().extension() == ".safetensors") shard_names.push_back(e.path().filename().string());
    std::sort(shard_names.begin(), shard_names.end());
  }
  if (shard_names.empty()) throw not_found(dir + ": no .safetensors files (and no model.safetensors.index.json)");
  for (const auto& name : shard_names) {
    const std::string path = dir + "/" + name;
    if (!fs::exists(path)) throw not_found(path + ": listed in the index but missing");
    auto file = SafetensorsFile::open(path);
    for (const auto& [tname, info] : file->tensors()) {
      if (ck->where_.count(tname))
        throw invalid_input(path + ": tensor '" + tname + "' also appears in " + ck->files_[ck->where_[tname]]->path());
      ck->where_[tname] = ck->files_.size();
    }
    ck->files_.push_back(std::move(file));
  }
  return ck;
}

std::string Checkpoint::file_of(const std::string& name) const {
  auto it = where_.find(name);
  return it == where_.end() ? dir_ : files_[it->second]->path();
}

Shape Checkpoint::shape_of(const std::string& name) const {
  auto it = where_.find(name);
  if (it == where_.end()) throw not_found(dir_ + ": checkpoint has no tensor '" + name + "'");
  return files_[it->second]->tensors().at(name).shape;
}

Tensor Checkpoint::get(const std::string& name, const Shape& shape, const std::vector<DType>& allowed) {
  auto it = where_.find(name);
  if (it == where_.end()) throw not_found(dir_ + ": checkpoint is missing tensor '" + name + "'");
  const auto& file = files_[it->second];
  Tensor t = file->get(name);
  if (!shape.empty() && t.shape() != shape)
    throw invalid_input(file->path() + ": tensor '" + name + "' has shape " + shape_str(t.shape()) + ", expected " +
                        shape_str(shape));
  bool ok = allowed.empty();
  for (DType d : allowed) ok = ok || d == t.dtype();
  if (!ok) throw invalid_input(file->path() + ": tensor '" + name + "' has dtype " + dtype_name(t.dtype()) +
                               ", which this model does not accept");
  taken_.insert(name);
  return t;
}

std::vector<std::string> Checkpoint::untaken() const {
  std::vector<std::string> out;
  for (const auto& [name, idx] : where_)
    if (!taken_.count(name)) out.push_back(name);
  return out;
}

}  // namespace folio
