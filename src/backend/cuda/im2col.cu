// Channels-last x[B, H, W, C] -> cols[B*Ho*Wo, C*k*k] with column order (c, ky, kx) so that a
// [O, C, k, k] conv weight reshaped to [O, C*k*k] multiplies it directly. Zero padding.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

template <class T>
__global__ void im2col_kernel(const T* x, T* cols, int H, int W, int C, int k, int stride, int pad, int Ho, int Wo,
                              int64_t n) {
  const int64_t ncol = int64_t(C) * k * k;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t row = e / ncol;
    const int col = static_cast<int>(e % ncol);
    const int c = col / (k * k), ky = (col / k) % k, kx = col % k;
    const int ox = static_cast<int>(row % Wo), oy = static_cast<int>((row / Wo) % Ho);
    const int64_t b = row / (int64_t(Wo) * Ho);
    const int iy = oy * stride - pad + ky, ix = ox * stride - pad + kx;
    float v = 0.f;
    if (iy >= 0 && iy < H && ix >= 0 && ix < W) v = to_f32(x[((b * H + iy) * W + ix) * C + c]);
    cols[e] = from_f32<T>(v);
  }
}

}  // namespace

void im2col(CudaContext& ctx, const Tensor& x, int kernel, int stride, int pad, Tensor& cols) {
  const char* op = "im2col";
  require_device(x, op, "x");
  require_device(cols, op, "cols");
  const std::string shapes = describe("x", x) + ", " + describe("cols", cols) + ", kernel " + std::to_string(kernel) +
                             " stride " + std::to_string(stride) + " pad " + std::to_string(pad);
  require(x.ndim() == 4 && kernel > 0 && stride > 0 && pad >= 0 && x.dtype() == cols.dtype(), op,
          "x must be [B, H, W, C]: " + shapes);
  const int B = int(x.dim(0)), H = int(x.dim(1)), W = int(x.dim(2)), C = int(x.dim(3));
  const int Ho = (H + 2 * pad - kernel) / stride + 1, Wo = (W + 2 * pad - kernel) / stride + 1;
  require(Ho > 0 && Wo > 0 && cols.numel() == int64_t(B) * Ho * Wo * C * kernel * kernel &&
              cols.dim(-1) == int64_t(C) * kernel * kernel, op,
          "cols must be [B*Ho*Wo, C*k*k] = [" + std::to_string(int64_t(B) * Ho * Wo) + ", " +
              std::to_string(int64_t(C) * kernel * kernel) + "]: " + shapes);
  const int64_t n = cols.numel();
  if (n == 0) return;
  dispatch_act(x, op, "x", [&](auto tag) {
    using T = decltype(tag);
    im2col_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.data<T>(), cols.data<T>(), H, W, C, kernel, stride,
                                                                  pad, Ho, Wo, n);
  });
  check_launch(op, shapes);
}

}  // namespace folio::cuda
