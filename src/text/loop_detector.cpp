#include "text/loop_detector.h"

#include <algorithm>

namespace folio {

LoopDetector::LoopDetector(int max_period, int min_span)
    : max_period_(std::max(1, std::min(max_period, std::max(2, min_span) / 2))),
      min_span_(std::max(2, min_span)),
      run_(max_period_, 0) {}

void LoopDetector::reset() {
  history_.clear();
  std::fill(run_.begin(), run_.end(), 0);
  period_ = 0;
}

bool LoopDetector::add(int32_t id) {
  history_.push_back(id);
  const long n = static_cast<long>(history_.size());
  period_ = 0;
  for (int p = 1; p <= max_period_; ++p) {
    if (n - 1 - p < 0) {
      run_[p - 1] = 0;
      continue;
    }
    run_[p - 1] = history_[n - 1 - p] == id ? run_[p - 1] + 1 : 0;
    // A span of min_span ids is periodic when min_span - p consecutive ids equal the one p back.
    if (!period_ && run_[p - 1] >= min_span_ - p) period_ = p;
  }
  // Keep the history bounded: only the last max_period ids are ever looked at.
  if (history_.size() > static_cast<size_t>(4 * max_period_ + 64))
    history_.erase(history_.begin(), history_.end() - max_period_);
  return period_ != 0;
}

}  // namespace folio
