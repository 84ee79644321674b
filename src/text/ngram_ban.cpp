#include "text/ngram_ban.h"

#include <algorithm>

namespace folio {

std::vector<int32_t> banned_next(const std::vector<int32_t>& o, int ngram_size, int window,
                                 const std::vector<int32_t>& whitelist) {
  std::vector<int32_t> banned;
  const long n = static_cast<long>(o.size()), N = ngram_size;
  if (N <= 0 || n < N) return banned;
  const long first = std::max(0L, n - static_cast<long>(window)), last = n - N;
  const long prefix = n - N + 1;  // o[prefix .. n-1] is the last N-1 ids
  for (long i = first; i <= last; ++i) {
    if (std::equal(o.begin() + i, o.begin() + i + N - 1, o.begin() + prefix)) banned.push_back(o[i + N - 1]);
  }
  std::sort(banned.begin(), banned.end());
  banned.erase(std::unique(banned.begin(), banned.end()), banned.end());
  std::erase_if(banned, [&](int32_t id) { return std::find(whitelist.begin(), whitelist.end(), id) != whitelist.end(); });
  return banned;
}

std::string_view to_string(FinishReason reason) {
  switch (reason) {
    case FinishReason::stop: return "stop";
    case FinishReason::length: return "length";
    case FinishReason::repetition: return "repetition";
    case FinishReason::cancelled: return "cancelled";
    case FinishReason::error: return "error";
  }
  return "error";
}

}  // namespace folio
