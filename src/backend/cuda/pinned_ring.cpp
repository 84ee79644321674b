#include "backend/cuda/pinned_ring.h"

#include <string>

#include "backend/cuda/cuda_check.h"

namespace folio::cuda {

PinnedRing::~PinnedRing() {
  for (const Piece& p : inflight_) {
    cudaEventSynchronize(p.done);
    cudaEventDestroy(p.done);
  }
  for (cudaEvent_t e : spare_events_) cudaEventDestroy(e);
  if (host_) cudaFreeHost(host_);
}

void* PinnedRing::reserve(size_t n, const char* op) {
  if (n > max_piece()) fail(op, "staging piece of " + std::to_string(n) + " bytes exceeds " + std::to_string(max_piece()));
  if (!host_) check(cudaMallocHost(reinterpret_cast<void**>(&host_), cap_), op, "pinned staging of " + std::to_string(cap_) + " bytes");
  if (head_ + n > cap_) head_ = 0;
  auto overlaps = [&](const Piece& p) { return p.off < head_ + n && head_ < p.off + p.bytes; };
  // In-flight pieces lie in FIFO order around the ring: the ones this region covers are the
  // oldest, so waiting from the front frees it.
  while (!inflight_.empty()) {
    bool any = false;
    for (const Piece& p : inflight_) any = any || overlaps(p);
    if (!any) break;
    check(cudaEventSynchronize(inflight_.front().done), op, "waiting for a staging region");
    spare_events_.push_back(inflight_.front().done);
    inflight_.pop_front();
  }
  last_off_ = head_;
  last_bytes_ = n;
  head_ = (head_ + n + 255) / 256 * 256;  // 256-byte aligned pieces
  return host_ + last_off_;
}

void PinnedRing::release_after(cudaStream_t stream, const char* op) {
  cudaEvent_t e = nullptr;
  if (!spare_events_.empty()) {
    e = spare_events_.back();
    spare_events_.pop_back();
  } else {
    check(cudaEventCreateWithFlags(&e, cudaEventDisableTiming), op, "cudaEventCreate");
  }
  check(cudaEventRecord(e, stream), op, "cudaEventRecord");
  inflight_.push_back({last_off_, last_bytes_, e});
}

}  // namespace folio::cuda
