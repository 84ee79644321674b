#include "core/tensor.h"

#include <cstdlib>
#include <cstring>

#include "core/bf16.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio {

size_t dtype_size(DType dt) {
  switch (dt) {
    case DType::kF32: return 4;
    case DType::kF16: return 2;
    case DType::kBF16: return 2;
    case DType::kI64: return 8;
    case DType::kI32: return 4;
    case DType::kU8: return 1;
    case DType::kI8: return 1;
    case DType::kI8Packed: return 1;
  }
  return 1;
}

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::kF32: return "F32";
    case DType::kF16: return "F16";
    case DType::kBF16: return "BF16";
    case DType::kI64: return "I64";
    case DType::kI32: return "I32";
    case DType::kU8: return "U8";
    case DType::kI8: return "I8";
    case DType::kI8Packed: return "I8_PACKED";
  }
  return "?";
}

std::string shape_str(const Shape& s) {
  std::string out = "[";
  for (size_t i = 0; i < s.size(); ++i) {
    if (i) out += ", ";
    out += std::to_string(s[i]);
  }
  return out + "]";
}

int64_t Tensor::numel() const {
  int64_t n = 1;
  for (int64_t d : shape_) n *= d;
  return n;
}

namespace {
// 64-byte aligned host allocation so SIMD kernels can use aligned loads on row starts.
std::shared_ptr<void> host_alloc(size_t bytes) {
  size_t rounded = (bytes + 63) / 64 * 64;
  if (rounded == 0) rounded = 64;
  void* p = std::aligned_alloc(64, rounded);
  if (!p) throw internal_error("out of host memory allocating " + std::to_string(bytes) + " bytes");
  return std::shared_ptr<void>(p, [](void* q) { std::free(q); });
}
}  // namespace

Tensor Tensor::empty(const Shape& shape, DType dt) {
  Tensor t;
  t.shape_ = shape;
  t.dtype_ = dt;
  for (int64_t d : shape)
    if (d < 0) throw internal_error("negative dimension in " + shape_str(shape));
  t.owner_ = host_alloc(t.nbytes());
  t.data_ = t.owner_.get();
  return t;
}

Tensor Tensor::zeros(const Shape& shape, DType dt) {
  Tensor t = empty(shape, dt);
  std::memset(t.data_, 0, t.nbytes());
  return t;
}

Tensor Tensor::wrap(void* data, const Shape& shape, DType dt, std::shared_ptr<void> owner, Device dev) {
  Tensor t;
  t.data_ = data;
  t.shape_ = shape;
  t.dtype_ = dt;
  t.owner_ = std::move(owner);
  t.device_ = dev;
  return t;
}

Tensor Tensor::from_f32(const std::vector<float>& v, const Shape& shape) {
  Tensor t = empty(shape, DType::kF32);
  if (static_cast<size_t>(t.numel()) != v.size()) throw internal_error("from_f32: size mismatch");
  std::memcpy(t.data_, v.data(), v.size() * 4);
  return t;
}

Tensor Tensor::reshape(const Shape& shape) const {
  Shape s = shape;
  int64_t known = 1;
  int infer = -1;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == -1) {
      infer = static_cast<int>(i);
    } else {
      known *= s[i];
    }
  }
  if (infer >= 0 && known > 0) s[infer] = numel() / known;
  Tensor t = *this;
  t.shape_ = s;
  if (t.numel() != numel())
    throw internal_error("reshape " + shape_str(shape_) + " -> " + shape_str(shape) + ": element count differs");
  return t;
}

Tensor Tensor::rows(int64_t begin, int64_t end) const {
  if (shape_.empty() || begin < 0 || end > shape_[0] || begin > end)
    throw internal_error("rows(" + std::to_string(begin) + "," + std::to_string(end) + ") of " + shape_str(shape_));
  Tensor t = *this;
  t.shape_[0] = end - begin;
  const size_t row_bytes = shape_[0] ? nbytes() / shape_[0] : 0;
  t.data_ = static_cast<char*>(data_) + begin * row_bytes;
  return t;
}

Tensor Tensor::clone() const {
  if (device_ != Device::kCPU) throw internal_error("clone of a device tensor; copy it to the host first");
  Tensor t = empty(shape_, dtype_);
  std::memcpy(t.data_, data_, nbytes());
  return t;
}

Tensor Tensor::to_f32() const {
  Tensor t = empty(shape_, DType::kF32);
  copy_f32(0, numel(), t.data<float>());
  return t;
}

void Tensor::copy_f32(int64_t offset, int64_t n, float* out) const {
  if (device_ != Device::kCPU) throw internal_error("to_f32 of a device tensor; copy it to the host first");
  if (offset < 0 || n < 0 || offset + n > numel())
    throw internal_error("copy_f32: elements [" + std::to_string(offset) + ", " + std::to_string(offset + n) +
                         ") of a tensor of " + std::to_string(numel()));
  switch (dtype_) {
    case DType::kF32: std::memcpy(out, data<float>() + offset, n * 4); break;
    case DType::kBF16: for (int64_t i = 0; i < n; ++i) out[i] = bf16_to_f32(data<uint16_t>()[offset + i]); break;
    case DType::kF16: for (int64_t i = 0; i < n; ++i) out[i] = f16_to_f32(data<uint16_t>()[offset + i]); break;
    case DType::kI64: for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(data<int64_t>()[offset + i]); break;
    case DType::kI32: for (int64_t i = 0; i < n; ++i) out[i] = static_cast<float>(data<int32_t>()[offset + i]); break;
    case DType::kU8: for (int64_t i = 0; i < n; ++i) out[i] = data<uint8_t>()[offset + i]; break;
    case DType::kI8: for (int64_t i = 0; i < n; ++i) out[i] = data<int8_t>()[offset + i]; break;
    case DType::kI8Packed: throw internal_error("to_f32 of a packed int8 weight: its bytes are not values");
  }
}

Tensor Tensor::to_16bit(DType dt) const {
  if (!is_16bit_float(dt)) throw internal_error("to_16bit: F16 or BF16 expected");
  if (dtype_ == dt) return *this;
  const Tensor f = to_f32();
  Tensor t = empty(shape_, dt);
  const float* in = f.data<float>();
  uint16_t* out = t.data<uint16_t>();
  // Over the worker pool: the vision encoder's matrices are ~400M values at load.
  parallel_for(numel(), 1 << 16, [&](int64_t lo, int64_t hi) {
    if (dt == DType::kF16)
      f32_to_f16_n(in + lo, out + lo, hi - lo);
    else
      for (int64_t i = lo; i < hi; ++i) out[i] = f32_to_bf16(in[i]);
  });
  return t;
}

std::vector<float> Tensor::to_vector_f32() const {
  Tensor f = to_f32();
  return std::vector<float>(f.data<float>(), f.data<float>() + f.numel());
}

}  // namespace folio
