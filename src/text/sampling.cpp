#include "text/sampling.h"

#include <cmath>

namespace folio {

int32_t argmax(const std::vector<float>& logits) {
  int32_t best = 0;
  for (size_t i = 1; i < logits.size(); ++i)
    if (logits[i] > logits[best]) best = static_cast<int32_t>(i);
  return best;
}

int32_t greedy_pick(std::vector<float>& logits, const std::vector<int32_t>& banned) {
  for (int32_t b : banned)
    if (b >= 0 && static_cast<size_t>(b) < logits.size()) logits[b] = -INFINITY;
  return argmax(logits);
}

}  // namespace folio
