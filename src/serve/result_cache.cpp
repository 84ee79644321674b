#include "serve/result_cache.h"

namespace folio::serve {

std::optional<nlohmann::json> ResultCache::get(const std::string& key) {
  std::lock_guard lock(mutex_);
  auto it = index_.find(key);
  if (it == index_.end()) return std::nullopt;
  order_.splice(order_.begin(), order_, it->second);
  return it->second->second;
}

void ResultCache::put(const std::string& key, nlohmann::json pages) {
  if (max_entries_ == 0) return;
  std::lock_guard lock(mutex_);
  if (auto it = index_.find(key); it != index_.end()) {
    it->second->second = std::move(pages);
    order_.splice(order_.begin(), order_, it->second);
    return;
  }
  order_.emplace_front(key, std::move(pages));
  index_[key] = order_.begin();
  while (order_.size() > max_entries_) {
    index_.erase(order_.back().first);
    order_.pop_back();
  }
}

size_t ResultCache::size() const {
  std::lock_guard lock(mutex_);
  return order_.size();
}

}  // namespace folio::serve
