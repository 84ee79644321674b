// Added tokens of tokenizer.json ("added_tokens"): literal strings that are cut out of the text
// before normalization/pre-tokenization and map straight to their ids. Matching follows Hugging
// Face: leftmost-longest, non-overlapping; a single_word token only matches between non-word
// characters (else the match is skipped); lstrip / rstrip swallow the whitespace on that side.
// Immutable after construction; thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/regex.h"

namespace folio {

struct AddedToken {
  int32_t id = -1;
  std::string content;
  bool special = false, lstrip = false, rstrip = false, single_word = false, normalized = true;
};

// A set of added tokens compiled into a byte trie for leftmost-longest matching.
class AddedTokenMatcher {
 public:
  // `patterns[i]` is the string matched for `tokens[i]` (the normalized content for normalized
  // tokens); the tokens must outlive the matcher.
  void add(const AddedToken* token, const std::string& pattern);

  struct Split {
    size_t begin, end;
    const AddedToken* token;  // nullptr: plain text
  };
  // Splits `text` into plain-text runs and added-token matches covering it (empty text: none).
  std::vector<Split> split(std::string_view text) const;

 private:
  int child(int node, uint8_t byte) const;
  struct Node {
    const AddedToken* token = nullptr;
  };
  std::vector<Node> nodes_{Node{}};
  std::unordered_map<uint64_t, int> edges_;  // node << 8 | byte -> child node
};

}  // namespace folio
