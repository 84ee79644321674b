// Elementwise dtype conversion (F32/F16/BF16 -> F32/BF16) on the device: cast_f32 for logits and
// the weight conversions of linear for dtypes cuBLASLt is not given directly.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

template <class T>
__global__ void convert_kernel(const void* x, int xdt, T* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = from_f32<T>(load_any(x, xdt, i));
}

}  // namespace

void convert(CudaContext& ctx, const Tensor& x, Tensor& y, const char* op) {
  require_device(x, op, "x");
  require_device(y, op, "y");
  const std::string shapes = describe("x", x) + ", " + describe("y", y);
  require(x.numel() == y.numel(), op, "element counts differ: " + shapes);
  const int xdt = float_dtype_code(x.dtype(), op, "x");
  const int64_t n = x.numel();
  if (n == 0) return;
  if (x.dtype() == y.dtype()) {
    check(cudaMemcpyAsync(y.raw(), x.raw(), x.nbytes(), cudaMemcpyDeviceToDevice, ctx.stream()), op, shapes);
    return;
  }
  dispatch_act(y, op, "y", [&](auto tag) {
    using T = decltype(tag);
    convert_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.raw(), xdt, y.data<T>(), n);
  });
  check_launch(op, shapes);
}

}  // namespace folio::cuda
