#include "backend/cuda/cuda_context.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/linear_plans.h"
#include "core/parallel.h"

namespace folio::cuda {

DeviceScratch& DeviceScratch::operator=(DeviceScratch&& o) noexcept {
  if (this != &o) {
    if (ptr_) cudaFreeAsync(ptr_, stream_);
    ptr_ = o.ptr_;
    stream_ = o.stream_;
    o.ptr_ = nullptr;
  }
  return *this;
}

DeviceScratch::~DeviceScratch() {
  if (ptr_) cudaFreeAsync(ptr_, stream_);  // stream-ordered: later work on the stream may reuse it
}

CudaContext::CudaContext() {
  int count = 0;
  cudaError_t e = cudaGetDeviceCount(&count);
  if (e != cudaSuccess || count == 0) {
    cudaGetLastError();  // clear the sticky "no device" error
    throw unavailable(std::string("cuda: no usable CUDA device (") +
                      (e != cudaSuccess ? cudaGetErrorString(e) : "device count is 0") + ")");
  }
  const char* op = "init";
  check(cudaSetDevice(0), op, "cudaSetDevice(0)");
  cudaDeviceProp prop{};
  check(cudaGetDeviceProperties(&prop, 0), op, "cudaGetDeviceProperties");
  sm_count_ = prop.multiProcessorCount;
  max_smem_optin_ = prop.sharedMemPerBlockOptin;
  check(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking), op, "cudaStreamCreate");
  // Keep freed memory in the pool instead of returning it to the driver: allocation after the
  // first forward pass is then a pool lookup.
  check(cudaDeviceGetDefaultMemPool(&pool_, 0), op, "cudaDeviceGetDefaultMemPool");
  uint64_t keep = UINT64_MAX;
  check(cudaMemPoolSetAttribute(pool_, cudaMemPoolAttrReleaseThreshold, &keep), op, "mempool threshold");
  if (cublasLtCreate(&lt_) != CUBLAS_STATUS_SUCCESS) fail(op, "cublasLtCreate failed");
  if (cublasCreate(&blas_) != CUBLAS_STATUS_SUCCESS) fail(op, "cublasCreate failed");
  cublasSetStream(blas_, stream_);
  check(cudaMalloc(&workspace_, workspace_bytes_), op, "cuBLASLt workspace of 32 MiB");
  plans_ = std::make_unique<LinearPlans>();
}

CudaContext::~CudaContext() {
  if (stream_) cudaStreamSynchronize(stream_);
  plans_.reset();
  for (PinnedSlot& s : pinned_) {
    if (s.done) cudaEventDestroy(s.done);
    if (s.host) cudaFreeHost(s.host);
  }
  if (workspace_) cudaFree(workspace_);
  if (blas_) cublasDestroy(blas_);
  if (lt_) cublasLtDestroy(lt_);
  if (stream_) cudaStreamDestroy(stream_);
}

Tensor CudaContext::alloc_tensor(const Shape& shape, DType dt, const char* op) {
  int64_t n = 1;
  for (int64_t d : shape) {
    if (d < 0) fail(op, "negative dimension in " + shape_str(shape));
    n *= d;
  }
  const size_t bytes = std::max<size_t>(static_cast<size_t>(n) * dtype_size(dt), 256);
  void* p = nullptr;
  check(cudaMallocAsync(&p, bytes, stream_), op, "allocating " + std::to_string(bytes) + " bytes for " + shape_str(shape));
  std::shared_ptr<CudaContext> self = shared_from_this();
  std::shared_ptr<void> owner(p, [self](void* q) { cudaFreeAsync(q, self->stream()); });
  return Tensor::wrap(p, shape, dt, std::move(owner), Device::kCUDA);
}

DeviceScratch CudaContext::scratch(size_t bytes, const char* op) {
  void* p = nullptr;
  bytes = std::max<size_t>(bytes, 256);
  check(cudaMallocAsync(&p, bytes, stream_), op, "scratch of " + std::to_string(bytes) + " bytes");
  return DeviceScratch(p, stream_);
}

CudaContext::PinnedSlot& CudaContext::pinned_slot(size_t bytes, const char* op) {
  // Round-robin over a few pinned slots; a slot is reused once the copy that read it is done.
  constexpr size_t kSlots = 32;
  const size_t want = std::max<size_t>(bytes, 64u << 10);
  if (pinned_.size() < kSlots) pinned_.resize(kSlots);
  PinnedSlot& s = pinned_[next_slot_];
  next_slot_ = (next_slot_ + 1) % kSlots;
  if (s.done) check(cudaEventSynchronize(s.done), op, "waiting for a staging buffer");
  if (s.bytes < want) {
    if (s.host) cudaFreeHost(s.host);
    s.host = nullptr;
    s.bytes = 0;
    check(cudaMallocHost(&s.host, want), op, "pinned staging of " + std::to_string(want) + " bytes");
    s.bytes = want;
  }
  if (!s.done) check(cudaEventCreateWithFlags(&s.done, cudaEventDisableTiming), op, "cudaEventCreate");
  return s;
}

DeviceScratch CudaContext::upload(const void* host, size_t bytes, const char* op) {
  DeviceScratch d = scratch(bytes, op);
  upload_into(d.get(), host, bytes, op);
  return d;
}

void CudaContext::upload_into(void* dev, const void* host, size_t bytes, const char* op) {
  if (bytes == 0) return;
  PinnedSlot& s = pinned_slot(bytes, op);
  // Into pinned memory over the worker pool: an encoder view is 12 MB of pixels, several ms of
  // one core's memcpy in every page's time to first token.
  constexpr size_t kPiece = size_t(1) << 20;
  if (bytes >= 4 * kPiece) {
    parallel_for(int64_t((bytes + kPiece - 1) / kPiece), 1, [&](int64_t lo, int64_t hi) {
      const size_t b = size_t(lo) * kPiece, e = std::min(bytes, size_t(hi) * kPiece);
      std::memcpy(static_cast<char*>(s.host) + b, static_cast<const char*>(host) + b, e - b);
    });
  } else {
    std::memcpy(s.host, host, bytes);
  }
  check(cudaMemcpyAsync(dev, s.host, bytes, cudaMemcpyHostToDevice, stream_), op, "upload");
  check(cudaEventRecord(s.done, stream_), op, "cudaEventRecord");
}

void CudaContext::download(void* host, const void* dev, size_t bytes, const char* op) {
  if (bytes == 0) return;
  check(cudaMemcpyAsync(host, dev, bytes, cudaMemcpyDeviceToHost, stream_), op, "download");
  synchronize(op);
}

void CudaContext::synchronize(const char* op) {
  check(cudaStreamSynchronize(stream_), op, "stream synchronize (a kernel queued earlier may have failed)");
}

CudaContext::MemoryStats CudaContext::memory_stats() {
  const char* op = "memory_stats";
  MemoryStats m;
  uint64_t v = 0;  // the pool reports these attributes as 64-bit counts
  check(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemCurrent, &v), op, "UsedMemCurrent");
  m.pool_used = static_cast<int64_t>(v);
  check(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrUsedMemHigh, &v), op, "UsedMemHigh");
  m.pool_used_peak = static_cast<int64_t>(v);
  check(cudaMemPoolGetAttribute(pool_, cudaMemPoolAttrReservedMemHigh, &v), op, "ReservedMemHigh");
  m.pool_reserved_peak = static_cast<int64_t>(v);
  size_t free_b = 0, total_b = 0;
  check(cudaMemGetInfo(&free_b, &total_b), op, "cudaMemGetInfo");
  m.device_used = static_cast<int64_t>(total_b - free_b);
  m.device_total = static_cast<int64_t>(total_b);
  return m;
}

}  // namespace folio::cuda
