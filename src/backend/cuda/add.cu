// add (same shape), add_broadcast (position embeddings over leading dims) and add_bias_rows
// (bias over rows, for GEMMs without a bias epilogue). fp32 math, one element per thread-step.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

// a, b and y may each be bf16 or f32: residual streams are kept in fp32 while the branches
// that are added to them come out of bf16 products.
template <class A, class B, class Y>
__global__ void add_kernel(const A* a, const B* b, Y* y, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    y[i] = from_f32<Y>(to_f32(a[i]) + to_f32(b[i]));
}

// x[i] += p[i % period] with p of any float dtype.
template <class T>
__global__ void add_periodic_kernel(T* x, const void* p, int pdt, int64_t period, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = from_f32<T>(to_f32(x[i]) + load_any(p, pdt, i % period));
}

void add_periodic(CudaContext& ctx, const char* op, Tensor& x, const Tensor& p, int64_t period) {
  const int pdt = float_dtype_code(p.dtype(), op, "p");
  const int64_t n = x.numel();
  if (n == 0) return;
  dispatch_act(x, op, "x", [&](auto tag) {
    using T = decltype(tag);
    add_periodic_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.data<T>(), p.raw(), pdt, period, n);
  });
  check_launch(op, describe("x", x) + ", " + describe("p", p));
}

}  // namespace

void add(CudaContext& ctx, const Tensor& a, const Tensor& b, Tensor& y) {
  const char* op = "add";
  require_device(a, op, "a");
  require_device(b, op, "b");
  require_device(y, op, "y");
  const std::string shapes = describe("a", a) + ", " + describe("b", b) + ", " + describe("y", y);
  require(a.numel() == b.numel() && a.numel() == y.numel(), op, "sizes differ: " + shapes);
  const int64_t n = a.numel();
  if (n == 0) return;
  dispatch_act(a, op, "a", [&](auto atag) {
    dispatch_act(b, op, "b", [&](auto btag) {
      dispatch_act(y, op, "y", [&](auto ytag) {
        using A = decltype(atag);
        using B = decltype(btag);
        using Y = decltype(ytag);
        add_kernel<A, B, Y><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(a.data<A>(), b.data<B>(), y.data<Y>(), n);
      });
    });
  });
  check_launch(op, shapes);
}

void add_broadcast(CudaContext& ctx, Tensor& x, const Tensor& p) {
  const char* op = "add_broadcast";
  require_device(x, op, "x");
  require_device(p, op, "p");
  const int64_t period = p.numel();
  require(period > 0 && x.numel() % period == 0 && x.dim(-1) == p.dim(-1), op,
          "x must be [rows, N, C] over p [N, C]: " + describe("x", x) + ", " + describe("p", p));
  add_periodic(ctx, op, x, p, period);
}

void add_bias_rows(CudaContext& ctx, Tensor& y, const Tensor& bias) {
  const char* op = "add_bias_rows";
  require(bias.numel() == y.dim(-1), op, describe("y", y) + ", " + describe("bias", bias));
  add_periodic(ctx, op, y, bias, bias.numel());
}

}  // namespace folio::cuda
