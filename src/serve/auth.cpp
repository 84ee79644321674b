#include "serve/auth.h"

#include <algorithm>

namespace folio::serve {

bool constant_time_equal(const std::string& a, const std::string& b) {
  // Walks the longer length whatever the contents; a length mismatch only sets a bit.
  size_t n = std::max(a.size(), b.size());
  unsigned char diff = a.size() != b.size();
  for (size_t i = 0; i < n; ++i) {
    unsigned char x = i < a.size() ? static_cast<unsigned char>(a[i]) : 0;
    unsigned char y = i < b.size() ? static_cast<unsigned char>(b[i]) : 0;
    diff |= x ^ y;
  }
  return diff == 0;
}

bool authorized(const std::string& authorization_header, const std::vector<std::string>& keys) {
  const std::string prefix = "Bearer ";
  if (authorization_header.size() <= prefix.size() || authorization_header.compare(0, prefix.size(), prefix) != 0)
    return false;
  std::string presented = authorization_header.substr(prefix.size());
  bool ok = false;
  for (const std::string& key : keys) ok |= constant_time_equal(presented, key);  // no early exit
  return ok;
}

}  // namespace folio::serve
