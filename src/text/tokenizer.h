// A Hugging Face `tokenizer.json` tokenizer (byte-level BPE, as used by DeepSeek-OCR), built
// entirely from the file: normalizer, pre-tokenizer, BPE model, added tokens and decoder.
//
// encode() has add_special_tokens=false semantics (no BOS/EOS; the post-processor is ignored):
// added tokens are cut out first (non-normalized ones from the raw text, then normalized ones
// from the normalized pieces), the rest is pre-tokenized and BPE-encoded word by word.
// Text that is not valid UTF-8 is first repaired (invalid bytes -> U+FFFD).
// decode() follows tokenizers' decode: unknown ids are skipped, special added tokens are skipped
// when asked, the ByteLevel decoder turns tokens back into bytes and invalid UTF-8 becomes U+FFFD
// exactly like Rust's String::from_utf8_lossy.
//
// Thread-safety: after construction every method is const and safe to call concurrently.
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "text/added_tokens.h"
#include "text/bpe_model.h"

namespace folio {

class Normalizer;
class PreTokenizer;

class Tokenizer {
 public:
  // Throws folio::invalid_input naming the file (and JSON path) when the file is missing,
  // unreadable, not JSON, or uses a component this implementation does not support.
  static Tokenizer from_file(const std::string& path);
  // `name` is used in error messages in place of a file name.
  static Tokenizer from_json_text(std::string_view json_text, const std::string& name);

  Tokenizer(Tokenizer&&) noexcept;
  Tokenizer& operator=(Tokenizer&&) noexcept;
  ~Tokenizer();

  std::vector<int32_t> encode(std::string_view text) const;
  std::string decode(const std::vector<int32_t>& ids, bool skip_special = false) const;

  // Appends the bytes token `id` contributes to decoded output (before UTF-8 repair); returns
  // false (appending nothing) for unknown ids and for special tokens when skip_special is set.
  // Decoders without byte semantics (none) join tokens with a space; `first` says whether this
  // is the first token appended.
  bool append_token_bytes(int32_t id, bool skip_special, bool first, std::string& out) const;

  std::optional<int32_t> token_to_id(std::string_view token) const;
  std::optional<std::string> id_to_token(int32_t id) const;
  bool is_special(int32_t id) const;
  // Number of distinct ids (model vocabulary plus added tokens not in it), like HF's
  // get_vocab_size(with_added_tokens=True).
  size_t vocab_size() const;

 private:
  Tokenizer();
  void encode_plain(std::string_view text, std::vector<int32_t>& out) const;

  std::string name_;
  std::unique_ptr<Normalizer> normalizer_;
  std::unique_ptr<PreTokenizer> pre_tokenizer_;
  std::unique_ptr<BpeModel> model_;
  std::vector<std::unique_ptr<AddedToken>> added_;
  std::unordered_map<int32_t, const AddedToken*> added_by_id_;
  std::unordered_map<std::string, const AddedToken*> added_by_content_;
  AddedTokenMatcher raw_matcher_, normalized_matcher_;
  bool byte_level_decoder_ = false;
};

}  // namespace folio
