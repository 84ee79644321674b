// UTF-8 helpers shared by the tokenizer, the streaming decoder and the grounding parser.
// All functions are pure and thread-safe.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace folio::utf8 {

// Appends the UTF-8 encoding of code point `cp` (must be <= 0x10FFFF, not a surrogate).
void append(std::string& out, uint32_t cp);

// Length in bytes of the valid UTF-8 character starting at s[i], or 0 when the bytes there are
// not a complete, valid character.
size_t char_length(std::string_view s, size_t i);

// Decodes `in` the way Rust's String::from_utf8_lossy does: valid sequences are copied, and each
// maximal prefix of an ill-formed sequence becomes one U+FFFD (the Unicode "substitution of
// maximal subparts" practice). When `final` is false, a trailing sequence that is incomplete but
// could still become valid is left undecoded. Returns the number of input bytes consumed.
size_t decode_lossy(std::string_view in, std::string& out, bool final);

// Convenience: the whole input, final.
inline std::string to_valid(std::string_view in) {
  std::string out;
  out.reserve(in.size());
  decode_lossy(in, out, true);
  return out;
}

inline constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

}  // namespace folio::utf8
