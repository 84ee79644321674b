// Small helpers for reading tokenizer.json with errors that name the file and the JSON path
// ("tokenizer.json: pre_tokenizer.pretokenizers[2].behavior: unsupported value 'Foo'").
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace folio::json_field {

using json = nlohmann::json;

struct Where {
  const std::string& file;
  std::string path;
  Where at(const std::string& key) const { return {file, path.empty() ? key : path + "." + key}; }
  Where at(size_t index) const { return {file, path + "[" + std::to_string(index) + "]"}; }
  [[noreturn]] void fail(const std::string& problem) const {
    throw invalid_input(file + ": " + (path.empty() ? "(root)" : path) + ": " + problem);
  }
};

inline const json& require(const json& j, const char* key, const Where& w) {
  if (!j.is_object()) w.fail("expected an object");
  auto it = j.find(key);
  if (it == j.end()) w.at(key).fail("missing");
  return *it;
}

inline std::string require_string(const json& j, const char* key, const Where& w) {
  const json& v = require(j, key, w);
  if (!v.is_string()) w.at(key).fail("expected a string");
  return v.get<std::string>();
}

inline bool optional_bool(const json& j, const char* key, bool fallback, const Where& w) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return fallback;
  if (!it->is_boolean()) w.at(key).fail("expected true or false");
  return it->get<bool>();
}

}  // namespace folio::json_field
