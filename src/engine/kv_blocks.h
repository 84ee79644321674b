// The free list of a paged KV cache's blocks. The engine owns one; sequences hold block ids
// and give them back when they finish or are preempted. No allocation after construction.
#pragma once
#include <cstdint>
#include <vector>

namespace folio {

class KvBlocks {
 public:
  explicit KvBlocks(int64_t blocks) {
    free_.reserve(blocks);
    for (int64_t b = blocks - 1; b >= 0; --b) free_.push_back(static_cast<int32_t>(b));
    total_ = blocks;
  }
  int64_t total() const { return total_; }
  int64_t free() const { return static_cast<int64_t>(free_.size()); }
  // A block id, or -1 when none is left.
  int32_t take() {
    if (free_.empty()) return -1;
    const int32_t b = free_.back();
    free_.pop_back();
    return b;
  }
  void give_back(std::vector<int32_t>& blocks) {
    free_.insert(free_.end(), blocks.begin(), blocks.end());
    blocks.clear();
  }

 private:
  std::vector<int32_t> free_;
  int64_t total_ = 0;
};

}  // namespace folio
