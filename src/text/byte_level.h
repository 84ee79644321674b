// GPT-2 style byte <-> printable character mapping used by ByteLevel pre-tokenizers/decoders:
// every byte becomes one Unicode character so that BPE vocabularies never contain raw bytes.
// Bytes 33..126, 161..172 and 174..255 map to themselves; the other 68 map, in order, to U+0100...
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace folio::byte_level {

// Appends the mapped characters (UTF-8) of every byte of `bytes`.
void encode(std::string_view bytes, std::string& out);

// If every character of `token` is a mapped byte character, appends the bytes and returns true;
// otherwise appends nothing and returns false (the caller then uses the token's own UTF-8).
bool decode(std::string_view token, std::string& out);

}  // namespace folio::byte_level
