// Detects a generation stuck in a loop, for finish_reason "repetition".
//
// Rule (max_period is capped at min_span/2 so a loop always means at least two repeats):
// after each generated id, look for the smallest period p in [1, max_period] such that the
// last `min_span` generated ids are periodic with period p (o[k] == o[k-p] for every k in the
// span). If one exists the sequence is looping: the model has repeated the same p-token unit
// min_span/p times in a row. Defaults: max_period 64, min_span 256 (a table row or a short
// sentence repeated dozens of times; real documents do not do that for 256 tokens, while the
// n-gram ban can still be defeated by loops longer than its window).
// Not thread-safe (one per sequence). Each add() is O(max_period) amortised.
#pragma once
#include <cstdint>
#include <vector>

namespace folio {

class LoopDetector {
 public:
  explicit LoopDetector(int max_period = 64, int min_span = 256);

  // Records the next generated id; returns true when the sequence now ends in a loop.
  bool add(int32_t id);
  // The period found by the last add() that returned true (0 otherwise).
  int period() const { return period_; }
  void reset();

 private:
  int max_period_, min_span_;
  std::vector<int32_t> history_;  // last max_period_ + min_span_ ids (ring, compacted)
  std::vector<int> run_;          // run_[p-1]: how many trailing ids satisfy o[k] == o[k-p]
  int period_ = 0;
};

}  // namespace folio
