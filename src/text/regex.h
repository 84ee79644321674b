// A compiled PCRE2 pattern in UTF + UCP mode (so \p{L}, \s, \w and lookaheads such as (?!\S)
// follow Unicode, like the Oniguruma regexes Hugging Face tokenizers use), JIT-compiled when
// available. Immutable after construction; find_all is thread-safe (per-thread match data).
#pragma once
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace folio {

class Regex {
 public:
  // Throws folio::invalid_input naming `context` and the PCRE2 error position on a bad pattern.
  Regex(const std::string& pattern, const std::string& context);
  ~Regex();
  Regex(const Regex&) = delete;
  Regex& operator=(const Regex&) = delete;

  // Every non-overlapping match in `subject` (valid UTF-8) as [begin, end) byte offsets, left to
  // right. After an empty match the search resumes one character later.
  void find_all(std::string_view subject, std::vector<std::pair<size_t, size_t>>& out) const;

  // True when the pattern matches somewhere in `subject`.
  bool search(std::string_view subject) const;

 private:
  struct Code;
  std::unique_ptr<Code> code_;
};

}  // namespace folio
