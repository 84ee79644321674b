#include "text/utf8.h"

namespace folio::utf8 {

void append(std::string& out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else if (cp < 0x800) {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    out += static_cast<char>(0xE0 | (cp >> 12));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  } else {
    out += static_cast<char>(0xF0 | (cp >> 18));
    out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
    out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

namespace {

// For a lead byte: total length and the allowed range of the second byte (Unicode Table 3-7).
struct Lead {
  int length;  // 0: never valid as a lead byte
  uint8_t lo, hi;
};

Lead lead_info(uint8_t b) {
  if (b >= 0xC2 && b <= 0xDF) return {2, 0x80, 0xBF};
  if (b == 0xE0) return {3, 0xA0, 0xBF};
  if ((b >= 0xE1 && b <= 0xEC) || b == 0xEE || b == 0xEF) return {3, 0x80, 0xBF};
  if (b == 0xED) return {3, 0x80, 0x9F};
  if (b == 0xF0) return {4, 0x90, 0xBF};
  if (b >= 0xF1 && b <= 0xF3) return {4, 0x80, 0xBF};
  if (b == 0xF4) return {4, 0x80, 0x8F};
  return {0, 0, 0};
}

// How many bytes from s[i] form a valid prefix of a character (1..length), and the length.
// valid == length means a complete character.
void scan(std::string_view s, size_t i, int& valid, int& length) {
  auto b = static_cast<uint8_t>(s[i]);
  if (b < 0x80) {
    valid = length = 1;
    return;
  }
  Lead lead = lead_info(b);
  length = lead.length;
  valid = lead.length ? 1 : 0;
  if (!lead.length) return;
  for (int k = 1; k < lead.length && i + k < s.size(); ++k) {
    auto c = static_cast<uint8_t>(s[i + k]);
    uint8_t lo = k == 1 ? lead.lo : 0x80, hi = k == 1 ? lead.hi : 0xBF;
    if (c < lo || c > hi) return;
    valid = k + 1;
  }
}

}  // namespace

size_t char_length(std::string_view s, size_t i) {
  if (i >= s.size()) return 0;
  int valid, length;
  scan(s, i, valid, length);
  return valid == length && length > 0 ? static_cast<size_t>(length) : 0;
}

size_t decode_lossy(std::string_view in, std::string& out, bool final) {
  size_t i = 0;
  while (i < in.size()) {
    // Fast path for ASCII runs.
    if (static_cast<uint8_t>(in[i]) < 0x80) {
      size_t j = i;
      while (j < in.size() && static_cast<uint8_t>(in[j]) < 0x80) ++j;
      out.append(in.substr(i, j - i));
      i = j;
      continue;
    }
    int valid, length;
    scan(in, i, valid, length);
    if (length > 0 && valid == length) {
      out.append(in.substr(i, length));
      i += length;
    } else if (length > 0 && valid > 0 && i + valid == in.size() && !final) {
      break;  // an incomplete character at the end: wait for more bytes
    } else {
      out.append(kReplacement);
      i += valid > 0 ? valid : 1;
    }
  }
  return i;
}

}  // namespace folio::utf8
