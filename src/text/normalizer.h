// Normalizers of tokenizer.json. Supported: null, Sequence (of supported ones), Prepend and
// Replace (String or Regex pattern). Unicode normalization forms (NFC, NFKC, ...), Lowercase
// and the others are refused at load time with an error naming the type and JSON path, rather
// than silently producing ids that differ from Hugging Face's.
// Immutable after construction; thread-safe.
#pragma once
#include <memory>
#include <string>

#include "text/json_field.h"

namespace folio {

class Normalizer {
 public:
  virtual ~Normalizer() = default;
  virtual void apply(std::string& text) const = 0;
  // null gives nullptr.
  static std::unique_ptr<Normalizer> from_json(const nlohmann::json& j, const json_field::Where& where);
};

}  // namespace folio
