// Pre-tokenizers of tokenizer.json: split text into the "words" that BPE encodes separately.
// Supported: Sequence, Split (Regex or String pattern; Isolated, Removed, MergedWithPrevious,
// MergedWithNext, Contiguous; invert) and ByteLevel (add_prefix_space, use_regex with the GPT-2
// pattern). Semantics follow Hugging Face tokenizers; pieces that end up empty are dropped.
// Immutable after construction; thread-safe.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "text/json_field.h"

namespace folio {

class PreTokenizer {
 public:
  virtual ~PreTokenizer() = default;
  // Replaces `pieces` by their split (and possibly transformed) pieces, in order.
  virtual void apply(std::vector<std::string>& pieces) const = 0;

  // Builds from a tokenizer.json "pre_tokenizer" value (null gives nullptr). Throws
  // invalid_input naming the file and JSON path for unsupported types or bad fields.
  static std::unique_ptr<PreTokenizer> from_json(const nlohmann::json& j, const json_field::Where& where);
};

}  // namespace folio
