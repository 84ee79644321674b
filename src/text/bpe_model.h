// The BPE "model" of tokenizer.json: vocab + ranked merges, applied to one pre-tokenized word at a
// time exactly like Hugging Face's BPE (lowest-rank pair first, leftmost on ties). Characters that
// are not in the vocabulary are dropped (unk_token null, byte_fallback off: byte-level vocabularies
// contain every byte character, so this does not happen for them).
// Thread-safe: encode_word may be called concurrently (the word cache has its own lock).
#pragma once
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/json_field.h"

namespace folio {

class BpeModel {
 public:
  // `j` is tokenizer.json's "model". Accepts merges as "a b" strings or ["a", "b"] pairs.
  BpeModel(const nlohmann::json& j, const json_field::Where& where);

  void encode_word(std::string_view word, std::vector<int32_t>& out) const;

  int32_t token_to_id(std::string_view token) const;  // -1 when absent
  const std::string* id_to_token(int32_t id) const;   // nullptr when absent
  size_t size() const { return vocab_.size(); }
  int32_t max_id() const { return static_cast<int32_t>(id_to_token_.size()) - 1; }

 private:
  struct Merge {
    int32_t rank, new_id;
  };
  void merge(std::string_view word, std::vector<int32_t>& out) const;

  std::unordered_map<std::string, int32_t> vocab_;
  std::vector<std::string> id_to_token_;
  std::vector<bool> has_id_;
  std::unordered_map<uint64_t, Merge> merges_;  // key: left id << 32 | right id
  bool ignore_merges_ = false;

  static constexpr size_t kCacheLimit = 200000;  // words; the cache is cleared when full
  mutable std::mutex cache_mutex_;
  mutable std::unordered_map<std::string, std::vector<int32_t>> cache_;
};

}  // namespace folio
