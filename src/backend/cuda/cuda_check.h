// Error plumbing for the CUDA backend: every failed CUDA/cuBLAS call or bad argument becomes a
// folio::Error(kInternal) naming the op and the shapes involved. Nothing here aborts.
#pragma once
#include <cuda_runtime.h>

#include <string>

#include "core/error.h"
#include "core/tensor.h"

namespace folio::cuda {

// "x[3, 1280] BF16" style description for messages.
std::string describe(const char* name, const Tensor& t);

[[noreturn]] void fail(const char* op, const std::string& detail);

inline void check(cudaError_t e, const char* op, const std::string& detail) {
  if (e != cudaSuccess) fail(op, detail + ": " + cudaGetErrorName(e) + " (" + cudaGetErrorString(e) + ")");
}

// After a kernel launch: configuration errors show up here, asynchronous faults at the next sync.
inline void check_launch(const char* op, const std::string& detail) { check(cudaGetLastError(), op, detail); }

inline void require(bool ok, const char* op, const std::string& detail) {
  if (!ok) fail(op, detail);
}

// The tensor lives on the GPU and is defined.
void require_device(const Tensor& t, const char* op, const char* name);

// Small integer dtype code passed to kernels that read weights of any float dtype.
enum DtCode : int { kDtF32 = 0, kDtF16 = 1, kDtBF16 = 2 };
int float_dtype_code(DType dt, const char* op, const char* name);

}  // namespace folio::cuda
