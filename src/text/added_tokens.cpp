#include "text/added_tokens.h"

namespace folio {
namespace {

// The character ending at `end` (exclusive) / starting at `begin`, as a view.
std::string_view last_char(std::string_view s, size_t end) {
  if (end == 0) return {};
  size_t b = end - 1;
  while (b > 0 && (static_cast<uint8_t>(s[b]) & 0xC0) == 0x80) --b;
  return s.substr(b, end - b);
}

std::string_view first_char(std::string_view s, size_t begin) {
  if (begin >= s.size()) return {};
  size_t e = begin + 1;
  while (e < s.size() && (static_cast<uint8_t>(s[e]) & 0xC0) == 0x80) ++e;
  return s.substr(begin, e - begin);
}

// Rust regex's Unicode \w (what HF uses for single_word): Alphabetic, marks, decimal digits,
// connector punctuation and the joiners. PCRE2's UCP \w differs (it has all of \p{N}, no marks).
const Regex& word_char() {
  static const Regex r(R"(^[\p{Alphabetic}\p{M}\p{Nd}\p{Pc}\x{200C}\x{200D}]$)", "added-token word test");
  return r;
}

const Regex& space_char() {
  static const Regex r(R"(^\s$)", "added-token whitespace test");
  return r;
}

}  // namespace

void AddedTokenMatcher::add(const AddedToken* token, const std::string& pattern) {
  if (pattern.empty()) return;
  int node = 0;
  for (char c : pattern) {
    int next = child(node, static_cast<uint8_t>(c));
    if (next < 0) {
      next = static_cast<int>(nodes_.size());
      nodes_.push_back({});
      edges_.emplace((static_cast<uint64_t>(node) << 8) | static_cast<uint8_t>(c), next);
    }
    node = next;
  }
  if (!nodes_[node].token) nodes_[node].token = token;
}

int AddedTokenMatcher::child(int node, uint8_t byte) const {
  auto it = edges_.find((static_cast<uint64_t>(node) << 8) | byte);
  return it == edges_.end() ? -1 : it->second;
}

std::vector<AddedTokenMatcher::Split> AddedTokenMatcher::split(std::string_view text) const {
  std::vector<Split> out;
  if (text.empty()) return out;
  size_t done = 0;  // text before this offset is already in `out`
  size_t pos = 0;
  while (pos < text.size()) {
    // Longest token starting at pos.
    int node = 0;
    size_t match_end = 0;
    const AddedToken* match = nullptr;
    for (size_t i = pos; i < text.size(); ++i) {
      node = child(node, static_cast<uint8_t>(text[i]));
      if (node < 0) break;
      if (nodes_[node].token) {
        match = nodes_[node].token;
        match_end = i + 1;
      }
    }
    if (!match) {
      ++pos;
      continue;
    }
    size_t begin = pos, end = match_end;
    if (match->single_word) {
      bool word_before = begin > 0 && word_char().search(last_char(text, begin));
      bool word_after = end < text.size() && word_char().search(first_char(text, end));
      if (word_before || word_after) {
        pos = match_end;  // HF skips this match and resumes after it
        continue;
      }
    }
    if (match->lstrip)
      while (begin > done && space_char().search(last_char(text, begin))) begin -= last_char(text, begin).size();
    if (match->rstrip)
      while (end < text.size() && space_char().search(first_char(text, end))) end += first_char(text, end).size();
    if (begin > done) out.push_back({done, begin, nullptr});
    out.push_back({begin, end, match});
    done = pos = end;
  }
  if (done < text.size()) out.push_back({done, text.size(), nullptr});
  return out;
}

}  // namespace folio
