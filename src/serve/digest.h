// Content hashing and base64, for the result cache key and data: URIs.
#pragma once
#include <string>
#include <string_view>

namespace folio::serve {

// Lower-case hex SHA-256 of `data` (OpenSSL's libcrypto, already a dependency of cpp-httplib).
std::string sha256_hex(std::string_view data);

// Standard base64 (RFC 4648, '+' '/'; whitespace ignored, padding optional). Throws
// invalid_input naming `what` on any other character.
std::string base64_decode(std::string_view text, const std::string& what);

}  // namespace folio::serve
