// API keys: `Authorization: Bearer KEY` checked against every configured key in constant time
// (the time taken does not depend on where a guess first differs, nor on which key matched).
#pragma once
#include <string>
#include <vector>

namespace folio::serve {

bool constant_time_equal(const std::string& a, const std::string& b);
// True when `authorization_header` is "Bearer <one of keys>".
bool authorized(const std::string& authorization_header, const std::vector<std::string>& keys);

}  // namespace folio::serve
