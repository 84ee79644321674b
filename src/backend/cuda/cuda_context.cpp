#include "backend/cuda/cuda_context.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <string>

#include "backend/cuda/cuda_check.h"
#include "backend/cuda/linear_plans.h"
#include "core/bf16.h"
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
  // 64 MiB: several Base views (6 MB each in bf16) in flight at once, pinned once.
  staging_ = std::make_unique<PinnedRing>(size_t(64) << 20);
}

CudaContext::~CudaContext() {
  if (stream_) cudaStreamSynchronize(stream_);
  plans_.reset();
  staging_.reset();
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

DeviceScratch CudaContext::upload(const void* host, size_t bytes, const char* op) {
  DeviceScratch d = scratch(bytes, op);
  upload_into(d.get(), host, bytes, op);
  return d;
}

namespace {

// `count` elements of `elem` bytes to dev through the staging ring, piece by piece:
// fill(dst, first, n) writes elements [first, first + n) into pinned dst. A piece's copy to the
// device overlaps the filling of the next.
template <class Fill>
void stage_to_device(PinnedRing& ring, cudaStream_t stream, void* dev, size_t count, size_t elem, const char* op,
                     Fill fill) {
  const size_t per_piece = ring.max_piece() / elem;
  for (size_t first = 0; first < count;) {
    const size_t n = std::min(count - first, per_piece);
    void* dst = ring.reserve(n * elem, op);
    fill(dst, first, n);
    check(cudaMemcpyAsync(static_cast<char*>(dev) + first * elem, dst, n * elem, cudaMemcpyHostToDevice, stream), op,
          "upload");
    ring.release_after(stream, op);
    first += n;
  }
}

}  // namespace

void CudaContext::upload_into(void* dev, const void* host, size_t bytes, const char* op) {
  // Large pieces are copied over the worker pool: an encoder view is megabytes of pixels,
  // several ms of one core's memcpy in every page's time to first token.
  stage_to_device(*staging_, stream_, dev, bytes, 1, op, [&](void* dst, size_t first, size_t n) {
    constexpr size_t kChunk = size_t(1) << 20;
    char* d = static_cast<char*>(dst);
    const char* src = static_cast<const char*>(host) + first;
    if (n < 4 * kChunk) {
      std::memcpy(d, src, n);
      return;
    }
    parallel_for(int64_t((n + kChunk - 1) / kChunk), 1, [&](int64_t lo, int64_t hi) {
      const size_t b = size_t(lo) * kChunk, e = std::min(n, size_t(hi) * kChunk);
      std::memcpy(d + b, src + b, e - b);
    });
  });
}

void CudaContext::upload_into_16(void* dev, const float* host, size_t n, DType dt, const char* op) {
  const bool half = dt == DType::kF16;
  stage_to_device(*staging_, stream_, dev, n, sizeof(uint16_t), op, [&](void* dst, size_t first, size_t m) {
    uint16_t* b = static_cast<uint16_t*>(dst);
    const float* f = host + first;
    parallel_for(static_cast<int64_t>(m), 1 << 16, [&](int64_t lo, int64_t hi) {
      if (half)
        f32_to_f16_n(f + lo, b + lo, hi - lo);
      else
        for (int64_t i = lo; i < hi; ++i) b[i] = f32_to_bf16(f[i]);
    });
  });
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
