// Character error rate for OCR tests: Levenshtein distance between whitespace-normalised texts,
// divided by the reference length.
#pragma once
#include <algorithm>
#include <string>
#include <vector>

namespace folio::testing {

// Runs of whitespace become one space; leading/trailing whitespace goes.
inline std::string normalise_whitespace(const std::string& s) {
  std::string out;
  bool space = false;
  for (char c : s) {
    if (c == ' ' || c == '\n' || c == '\t' || c == '\r') {
      space = !out.empty();
      continue;
    }
    if (space) out += ' ';
    space = false;
    out += c;
  }
  return out;
}

inline size_t levenshtein(const std::string& a, const std::string& b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j)
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

inline double character_error_rate(const std::string& reference, const std::string& hypothesis) {
  std::string ref = normalise_whitespace(reference), hyp = normalise_whitespace(hypothesis);
  if (ref.empty()) return hyp.empty() ? 0.0 : 1.0;
  return static_cast<double>(levenshtein(ref, hyp)) / static_cast<double>(ref.size());
}

}  // namespace folio::testing
