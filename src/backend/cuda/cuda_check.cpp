#include "backend/cuda/cuda_check.h"

namespace folio::cuda {

std::string describe(const char* name, const Tensor& t) {
  return std::string(name) + shape_str(t.shape()) + " " + dtype_name(t.dtype());
}

void fail(const char* op, const std::string& detail) {
  throw internal_error(std::string("cuda ") + op + ": " + detail);
}

void require_device(const Tensor& t, const char* op, const char* name) {
  if (!t.defined()) fail(op, std::string(name) + " is undefined");
  if (t.device() != Device::kCUDA)
    fail(op, describe(name, t) + " is on the host; copy it with to_device/upload_f32 first");
}

int float_dtype_code(DType dt, const char* op, const char* name) {
  switch (dt) {
    case DType::kF32: return kDtF32;
    case DType::kF16: return kDtF16;
    case DType::kBF16: return kDtBF16;
    default: fail(op, std::string(name) + " has dtype " + dtype_name(dt) + "; expected F32, F16 or BF16");
  }
}

}  // namespace folio::cuda
