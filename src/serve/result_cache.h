// A bounded LRU cache of finished OCR responses, keyed by sha256(file) + the options that change
// the result. Only complete, error-free results are stored. Thread-safe.
#pragma once
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include <nlohmann/json.hpp>

namespace folio::serve {

class ResultCache {
 public:
  explicit ResultCache(size_t max_entries) : max_entries_(max_entries) {}
  std::optional<nlohmann::json> get(const std::string& key);
  void put(const std::string& key, nlohmann::json pages);
  size_t size() const;

 private:
  using Entry = std::pair<std::string, nlohmann::json>;
  size_t max_entries_;
  mutable std::mutex mutex_;
  std::list<Entry> order_;  // most recently used first
  std::unordered_map<std::string, std::list<Entry>::iterator> index_;
};

}  // namespace folio::serve
