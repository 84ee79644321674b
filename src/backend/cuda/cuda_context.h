// Per-backend CUDA state: one stream (every op and copy is ordered on it), the cuBLAS/cuBLASLt
// handles and workspace, a stream-ordered memory pool, and a pinned staging ring for host->device
// uploads (pixels, indices, positions, expert routing).
//
// Ownership: the context is shared by the backend and by every device tensor it allocated (their
// deleters free on the context's stream), so tensors may outlive the backend object.
// Threading: one host thread drives a context at a time.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <cstddef>
#include <memory>
#include <vector>

#include "backend/cuda/pinned_ring.h"
#include "core/tensor.h"

namespace folio::cuda {

class LinearPlans;  // linear.cpp: cuBLASLt descriptors + heuristic, cached per shape

// A device buffer from the pool, freed (stream-ordered) when it goes out of scope.
class DeviceScratch {
 public:
  DeviceScratch() = default;
  DeviceScratch(void* p, cudaStream_t s) : ptr_(p), stream_(s) {}
  DeviceScratch(DeviceScratch&& o) noexcept : ptr_(o.ptr_), stream_(o.stream_) { o.ptr_ = nullptr; }
  DeviceScratch& operator=(DeviceScratch&& o) noexcept;
  DeviceScratch(const DeviceScratch&) = delete;
  DeviceScratch& operator=(const DeviceScratch&) = delete;
  ~DeviceScratch();
  void* get() const { return ptr_; }
  template <class T>
  T* as() const { return static_cast<T*>(ptr_); }

 private:
  void* ptr_ = nullptr;
  cudaStream_t stream_ = nullptr;
};

class CudaContext : public std::enable_shared_from_this<CudaContext> {
 public:
  CudaContext();  // throws kUnavailable when no device is usable
  ~CudaContext();
  CudaContext(const CudaContext&) = delete;
  CudaContext& operator=(const CudaContext&) = delete;

  cudaStream_t stream() const { return stream_; }
  cublasLtHandle_t lt() const { return lt_; }
  cublasHandle_t blas() const { return blas_; }
  void* workspace() const { return workspace_; }
  size_t workspace_bytes() const { return workspace_bytes_; }
  int sm_count() const { return sm_count_; }
  size_t max_shared_per_block() const { return max_smem_optin_; }
  LinearPlans& linear_plans() { return *plans_; }

  // A device tensor from the pool; its storage returns to the pool when the last view dies.
  Tensor alloc_tensor(const Shape& shape, DType dt, const char* op);
  DeviceScratch scratch(size_t bytes, const char* op);
  // Copies host bytes to a fresh device scratch buffer through pinned staging (no host sync).
  DeviceScratch upload(const void* host, size_t bytes, const char* op);
  // Host bytes into existing device memory through pinned staging (no host sync).
  void upload_into(void* dev, const void* host, size_t bytes, const char* op);
  // n host floats into n 16-bit values (dt: BF16 or F16) of existing device memory: converted
  // (round to nearest even) over the worker pool straight into pinned staging, so half the
  // bytes cross the bus.
  void upload_into_16(void* dev, const float* host, size_t n, DType dt, const char* op);
  // Device -> host, synchronous (waits for the stream).
  void download(void* host, const void* dev, size_t bytes, const char* op);
  void synchronize(const char* op);
  // Pool bytes in use now / at peak, reserved from the device at peak, and the device's used
  // bytes (total - free, every process and context) now. Peaks count since the context began.
  struct MemoryStats {
    int64_t pool_used = 0, pool_used_peak = 0, pool_reserved_peak = 0, device_used = 0, device_total = 0;
  };
  MemoryStats memory_stats();

 private:
  cudaStream_t stream_ = nullptr;
  cudaMemPool_t pool_ = nullptr;
  cublasLtHandle_t lt_ = nullptr;
  cublasHandle_t blas_ = nullptr;
  void* workspace_ = nullptr;
  size_t workspace_bytes_ = 32u << 20;
  int sm_count_ = 0;
  size_t max_smem_optin_ = 48u << 10;
  std::unique_ptr<PinnedRing> staging_;
  std::unique_ptr<LinearPlans> plans_;
};

}  // namespace folio::cuda
