#include "text/byte_level.h"

#include <array>

#include "text/utf8.h"

namespace folio::byte_level {
namespace {

struct Tables {
  std::array<std::string, 256> byte_to_utf8;
  std::array<int16_t, 512> cp_to_byte;  // every mapped code point is < 0x144
  Tables() {
    cp_to_byte.fill(-1);
    int extra = 0;
    for (int b = 0; b < 256; ++b) {
      bool printable = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174);
      uint32_t cp = printable ? b : 256 + extra++;
      utf8::append(byte_to_utf8[b], cp);
      cp_to_byte[cp] = static_cast<int16_t>(b);
    }
  }
};

const Tables& tables() {
  static const Tables t;
  return t;
}

}  // namespace

void encode(std::string_view bytes, std::string& out) {
  const auto& t = tables();
  for (char c : bytes) out += t.byte_to_utf8[static_cast<uint8_t>(c)];
}

bool decode(std::string_view token, std::string& out) {
  const auto& t = tables();
  size_t start = out.size();
  for (size_t i = 0; i < token.size();) {
    auto b0 = static_cast<uint8_t>(token[i]);
    uint32_t cp;
    if (b0 < 0x80) {
      cp = b0;
      i += 1;
    } else if ((b0 & 0xE0) == 0xC0 && i + 1 < token.size()) {
      cp = ((b0 & 0x1F) << 6) | (static_cast<uint8_t>(token[i + 1]) & 0x3F);
      i += 2;
    } else {
      cp = 0xFFFF;  // 3- and 4-byte characters are never mapped bytes
    }
    if (cp >= t.cp_to_byte.size() || t.cp_to_byte[cp] < 0) {
      out.resize(start);
      return false;
    }
    out += static_cast<char>(t.cp_to_byte[cp]);
  }
  return true;
}

}  // namespace folio::byte_level
