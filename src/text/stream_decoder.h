// Streaming detokenisation: feed generated ids one at a time and get back only complete UTF-8
// text. Bytes of a character split across tokens are held until the character is complete;
// ill-formed bytes are replaced by U+FFFD as soon as they are known to be ill-formed, so the
// concatenation of every push() and the final flush() equals Tokenizer::decode(all ids) (the
// from_utf8_lossy rule). Not thread-safe (one per sequence); the tokenizer must outlive it.
#pragma once
#include <cstdint>
#include <string>

#include "text/tokenizer.h"
#include "text/utf8.h"

namespace folio {

class StreamDecoder {
 public:
  explicit StreamDecoder(const Tokenizer& tokenizer, bool skip_special = false)
      : tokenizer_(&tokenizer), skip_special_(skip_special) {}

  // The text completed by this id (possibly empty).
  std::string push(int32_t id) {
    if (tokenizer_->append_token_bytes(id, skip_special_, first_, pending_)) first_ = false;
    std::string out;
    size_t used = utf8::decode_lossy(pending_, out, /*final=*/false);
    pending_.erase(0, used);
    return out;
  }

  // Emits what is still held: one U+FFFD for a dangling partial character. Resets the decoder.
  std::string flush() {
    std::string out;
    utf8::decode_lossy(pending_, out, /*final=*/true);
    pending_.clear();
    first_ = true;
    return out;
  }

  // Bytes held back waiting for the rest of a character (0..3).
  size_t pending_bytes() const { return pending_.size(); }

 private:
  const Tokenizer* tokenizer_;
  bool skip_special_;
  bool first_ = true;
  std::string pending_;
};

}  // namespace folio
