// A dense, row-major tensor: a shape, a dtype, a device and a pointer into storage that
// the tensor shares ownership of (heap, a memory-mapped file, or device memory).
// Views (reshape, rows) share the storage; nothing here copies data implicitly.
// Threading: a Tensor is a value; concurrent reads are fine, concurrent writes to the
// same storage are the caller's business.
#pragma once
#include <cstddef>
#include <cstdint>
#include <initializer_list>
#include <memory>
#include <string>
#include <vector>

namespace folio {

// kI8Packed: a linear weight quantised to int8 and laid out for the CPU's int8 product
// (core/packed_int8.h); only backend linear() reads it.
enum class DType : uint8_t { kF32, kF16, kBF16, kI64, kI32, kU8, kI8, kI8Packed };
enum class Device : uint8_t { kCPU, kCUDA };

size_t dtype_size(DType dt);
const char* dtype_name(DType dt);
// F16 or BF16: the 16-bit float dtypes (activations of the CUDA backend).
inline bool is_16bit_float(DType dt) { return dt == DType::kF16 || dt == DType::kBF16; }

using Shape = std::vector<int64_t>;
std::string shape_str(const Shape& s);

class Tensor {
 public:
  Tensor() = default;

  // New zero-initialised host tensor.
  static Tensor zeros(const Shape& shape, DType dt);
  // New host tensor, contents uninitialised.
  static Tensor empty(const Shape& shape, DType dt);
  // Wraps memory owned by `owner` (kept alive as long as any view exists).
  static Tensor wrap(void* data, const Shape& shape, DType dt, std::shared_ptr<void> owner,
                     Device dev = Device::kCPU);
  static Tensor from_f32(const std::vector<float>& v, const Shape& shape);

  bool defined() const { return data_ != nullptr || !shape_.empty(); }
  const Shape& shape() const { return shape_; }
  int ndim() const { return static_cast<int>(shape_.size()); }
  int64_t dim(int i) const { return shape_.at(i < 0 ? i + ndim() : i); }
  int64_t numel() const;
  size_t nbytes() const { return static_cast<size_t>(numel()) * dtype_size(dtype_); }
  DType dtype() const { return dtype_; }
  Device device() const { return device_; }

  void* raw() const { return data_; }
  template <class T>
  T* data() const { return static_cast<T*>(data_); }

  // Same storage, new shape with the same element count (one dim may be -1).
  Tensor reshape(const Shape& shape) const;
  // Rows [begin, end) of the first dimension, as a view.
  Tensor rows(int64_t begin, int64_t end) const;
  // A deep copy on the host.
  Tensor clone() const;
  // Host copy converted to f32 (bf16/f16/f32/i64/i32 sources).
  Tensor to_f32() const;
  // Elements [offset, offset + count) converted to f32 into out, as to_f32 converts them.
  void copy_f32(int64_t offset, int64_t count, float* out) const;
  // Host copy in a 16-bit float dtype (F16 or BF16), rounded to nearest even (f16 overflows to
  // inf, which a caller that cares checks for); *this when it already is one.
  Tensor to_16bit(DType dt) const;
  std::vector<float> to_vector_f32() const;

  const std::shared_ptr<void>& owner() const { return owner_; }

 private:
  std::shared_ptr<void> owner_;
  void* data_ = nullptr;
  Shape shape_;
  DType dtype_ = DType::kF32;
  Device device_ = Device::kCPU;
};

}  // namespace folio
