#include "text/bpe_model.h"

#include <queue>

#include "text/utf8.h"

namespace folio {

using json_field::Where;

BpeModel::BpeModel(const nlohmann::json& j, const Where& w) {
  std::string type = json_field::require_string(j, "type", w);
  if (type != "BPE") w.at("type").fail("unsupported model '" + type + "' (supported: BPE)");
  if (json_field::optional_bool(j, "byte_fallback", false, w))
    w.at("byte_fallback").fail("byte_fallback is not supported");
  for (const char* key : {"continuing_subword_prefix", "end_of_word_suffix"}) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null() && !(it->is_string() && it->get<std::string>().empty()))
      w.at(key).fail("not supported (must be null)");
  }
  if (auto it = j.find("dropout"); it != j.end() && !it->is_null() && !(it->is_number() && it->get<double>() == 0.0))
    w.at("dropout").fail("BPE dropout is not supported for inference");
  ignore_merges_ = json_field::optional_bool(j, "ignore_merges", false, w);

  const auto& vocab = json_field::require(j, "vocab", w);
  if (!vocab.is_object()) w.at("vocab").fail("expected an object of token -> id");
  vocab_.reserve(vocab.size());
  for (auto it = vocab.begin(); it != vocab.end(); ++it) {
    if (!it.value().is_number_integer() || it.value().get<int64_t>() < 0 || it.value().get<int64_t>() > INT32_MAX)
      w.at("vocab").at(it.key()).fail("expected a non-negative integer id");
    auto id = static_cast<int32_t>(it.value().get<int64_t>());
    vocab_.emplace(it.key(), id);
    if (static_cast<size_t>(id) >= id_to_token_.size()) {
      id_to_token_.resize(id + 1);
      has_id_.resize(id + 1, false);
    }
    id_to_token_[id] = it.key();
    has_id_[id] = true;
  }

  const auto& merges = json_field::require(j, "merges", w);
  if (!merges.is_array()) w.at("merges").fail("expected an array");
  merges_.reserve(merges.size());
  for (size_t rank = 0; rank < merges.size(); ++rank) {
    const auto& m = merges[rank];
    std::string left, right;
    if (m.is_string()) {
      const std::string& s = m.get_ref<const std::string&>();
      size_t space = s.find(' ');
      if (space == std::string::npos || s.find(' ', space + 1) != std::string::npos)
        w.at("merges").at(rank).fail("expected \"left right\"");
      left = s.substr(0, space);
      right = s.substr(space + 1);
    } else if (m.is_array() && m.size() == 2 && m[0].is_string() && m[1].is_string()) {
      left = m[0].get<std::string>();
      right = m[1].get<std::string>();
    } else {
      w.at("merges").at(rank).fail("expected \"left right\" or [\"left\", \"right\"]");
    }
    int32_t a = token_to_id(left), b = token_to_id(right), merged = token_to_id(left + right);
    if (a < 0 || b < 0 || merged < 0)
      w.at("merges").at(rank).fail("merge of '" + left + "' and '" + right + "' uses a token missing from the vocab");
    uint64_t key = (static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b);
    merges_.emplace(key, Merge{static_cast<int32_t>(rank), merged});  // first (lowest) rank wins
  }
}

int32_t BpeModel::token_to_id(std::string_view token) const {
  auto it = vocab_.find(std::string(token));
  return it == vocab_.end() ? -1 : it->second;
}

const std::string* BpeModel::id_to_token(int32_t id) const {
  if (id < 0 || static_cast<size_t>(id) >= id_to_token_.size() || !has_id_[id]) return nullptr;
  return &id_to_token_[id];
}

void BpeModel::encode_word(std::string_view word, std::vector<int32_t>& out) const {
  if (word.empty()) return;
  std::string key(word);
  {
    std::lock_guard lock(cache_mutex_);
    if (auto it = cache_.find(key); it != cache_.end()) {
      out.insert(out.end(), it->second.begin(), it->second.end());
      return;
    }
  }
  std::vector<int32_t> ids;
  if (int32_t whole = ignore_merges_ ? token_to_id(word) : -1; whole >= 0) ids.push_back(whole);
  else merge(word, ids);
  out.insert(out.end(), ids.begin(), ids.end());
  std::lock_guard lock(cache_mutex_);
  if (cache_.size() >= kCacheLimit) cache_.clear();
  cache_.emplace(std::move(key), std::move(ids));
}

void BpeModel::merge(std::string_view word, std::vector<int32_t>& out) const {
  struct Symbol {
    int32_t id;
    int prev, next;
    bool alive;
  };
  std::vector<Symbol> sym;
  for (size_t i = 0; i < word.size();) {
    size_t len = utf8::char_length(word, i);
    if (!len) len = 1;
    int32_t id = token_to_id(word.substr(i, len));
    if (id >= 0) sym.push_back({id, static_cast<int>(sym.size()) - 1, static_cast<int>(sym.size()) + 1, true});
    i += len;
  }
  if (sym.empty()) return;
  sym.back().next = -1;

  struct Candidate {
    int32_t rank;
    int pos;
    int32_t new_id;
    bool operator>(const Candidate& o) const { return rank != o.rank ? rank > o.rank : pos > o.pos; }
  };
  std::priority_queue<Candidate, std::vector<Candidate>, std::greater<>> queue;
  auto lookup = [this](int32_t a, int32_t b) -> const Merge* {
    auto it = merges_.find((static_cast<uint64_t>(a) << 32) | static_cast<uint32_t>(b));
    return it == merges_.end() ? nullptr : &it->second;
  };
  auto push = [&](int pos) {
    if (pos < 0 || sym[pos].next < 0) return;
    if (const Merge* m = lookup(sym[pos].id, sym[sym[pos].next].id)) queue.push({m->rank, pos, m->new_id});
  };
  for (int i = 0; i + 1 < static_cast<int>(sym.size()); ++i) push(i);

  while (!queue.empty()) {
    Candidate top = queue.top();
    queue.pop();
    Symbol& left = sym[top.pos];
    if (!left.alive || left.next < 0) continue;
    const Merge* m = lookup(left.id, sym[left.next].id);
    if (!m || m->new_id != top.new_id) continue;  // stale: a neighbour changed since it was queued
    Symbol& right = sym[left.next];
    left.id = top.new_id;
    right.alive = false;
    left.next = right.next;
    if (left.next >= 0) sym[left.next].prev = top.pos;
    push(left.prev);
    push(top.pos);
  }
  for (const Symbol& s : sym)
    if (s.alive) out.push_back(s.id);
}

}  // namespace folio
