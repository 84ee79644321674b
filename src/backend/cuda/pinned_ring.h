// Pinned host staging for host -> device copies: one fixed ring, pinned once.
//
// cudaMemcpyAsync only overlaps with host work from pinned memory, and pinning is slow (and
// cudaFreeHost waits for the whole device), so staging is allocated once at a fixed size and
// reused in FIFO order: a region is handed out again only after the copy that read it is done.
// Uploads larger than a piece are staged piece by piece by the caller.
#pragma once
#include <cuda_runtime.h>

#include <cstddef>
#include <deque>
#include <vector>

namespace folio::cuda {

class PinnedRing {
 public:
  explicit PinnedRing(size_t capacity) : cap_(capacity) {}
  ~PinnedRing();
  PinnedRing(const PinnedRing&) = delete;
  PinnedRing& operator=(const PinnedRing&) = delete;

  // The largest piece one reserve() hands out: a quarter of the ring, so that filling the
  // next pieces overlaps the copies of the previous ones.
  size_t max_piece() const { return cap_ / 4; }
  // Pinned memory for n <= max_piece() bytes that no queued copy still reads; waits for the
  // oldest copies when the ring is full.
  void* reserve(size_t n, const char* op);
  // The region of the last reserve() is read by work queued on `stream` so far: it is reused
  // once that work is done.
  void release_after(cudaStream_t stream, const char* op);

 private:
  struct Piece {
    size_t off, bytes;
    cudaEvent_t done;
  };
  char* host_ = nullptr;
  size_t cap_, head_ = 0, last_off_ = 0, last_bytes_ = 0;
  std::deque<Piece> inflight_;
  std::vector<cudaEvent_t> spare_events_;
};

}  // namespace folio::cuda
