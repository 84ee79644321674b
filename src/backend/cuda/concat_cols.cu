// y[M, Ca + Cb] = [a | b] as two strided 2-D copies (cudaMemcpy2DAsync), any dtype.
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_ops.h"

namespace folio::cuda {

void concat_cols(CudaContext& ctx, const Tensor& a, const Tensor& b, Tensor& y) {
  const char* op = "concat_cols";
  require_device(a, op, "a");
  require_device(b, op, "b");
  require_device(y, op, "y");
  const std::string shapes = describe("a", a) + ", " + describe("b", b) + ", " + describe("y", y);
  const int64_t Ca = a.dim(-1), Cb = b.dim(-1), C = y.dim(-1);
  require(a.dtype() == y.dtype() && b.dtype() == y.dtype() && Ca + Cb == C, op, "y must be [M, Ca + Cb]: " + shapes);
  const int64_t M = C ? y.numel() / C : 0;
  require((Ca == 0 || a.numel() / Ca == M) && (Cb == 0 || b.numel() / Cb == M), op, "row counts differ: " + shapes);
  if (M == 0) return;
  const size_t es = dtype_size(y.dtype());
  char* dst = static_cast<char*>(y.raw());
  if (Ca > 0)
    check(cudaMemcpy2DAsync(dst, C * es, a.raw(), Ca * es, Ca * es, M, cudaMemcpyDeviceToDevice, ctx.stream()), op, shapes);
  if (Cb > 0)
    check(cudaMemcpy2DAsync(dst + Ca * es, C * es, b.raw(), Cb * es, Cb * es, M, cudaMemcpyDeviceToDevice, ctx.stream()),
          op, shapes);
}

}  // namespace folio::cuda
