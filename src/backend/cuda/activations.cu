// Elementwise activations in fp32: gelu_erf, quick_gelu (in place), silu_mul (fused SwiGLU gate).
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

enum class Act { kGeluErf, kQuickGelu };

template <Act A>
__device__ __forceinline__ float act(float v) {
  if constexpr (A == Act::kGeluErf) return 0.5f * v * (1.f + erff(v * 0.70710678118654752f));
  return v / (1.f + expf(-1.702f * v));
}

template <class T, Act A>
__global__ void act_kernel(T* x, int64_t n) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < n; i += int64_t(gridDim.x) * blockDim.x)
    x[i] = from_f32<T>(act<A>(to_f32(x[i])));
}

// 16-bit values in 16-byte chunks (the encoders' [tokens, 4C] MLP rows): 8 per load and store.
template <class T, Act A>
__global__ void act_x8_kernel(uint4* x, int64_t chunks) {
  for (int64_t i = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; i < chunks; i += int64_t(gridDim.x) * blockDim.x) {
    uint4 c = x[i];
    uint32_t* w = reinterpret_cast<uint32_t*>(&c);
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float2 f = unpack2<T>(w[j]);
      w[j] = pack2<T>(act<A>(f.x), act<A>(f.y));
    }
    x[i] = c;
  }
}

// y[t, i] = silu(gate[t*gs + i]) * up[t*us + i]
template <class T>
__global__ void silu_mul_kernel(const T* gate, int64_t gs, const T* up, int64_t us, T* y, int64_t I, int64_t n) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t t = e / I, i = e % I;
    const float g = to_f32(gate[t * gs + i]);
    const float u = to_f32(up[t * us + i]);
    y[e] = from_f32<T>(g / (1.f + expf(-g)) * u);
  }
}

template <Act A>
void run_act(CudaContext& ctx, const char* op, Tensor& x) {
  require_device(x, op, "x");
  const int64_t n = x.numel();
  if (n == 0) return;
  const bool x8 = is_16bit_float(x.dtype()) && n % 8 == 0 && pointer_alignment(x.raw()) >= 16;
  if (x8 && x.dtype() == DType::kBF16) {
    act_x8_kernel<bf16, A><<<grid_for(n / 8, 256), 256, 0, ctx.stream()>>>(static_cast<uint4*>(x.raw()), n / 8);
  } else if (x8) {
    act_x8_kernel<f16, A><<<grid_for(n / 8, 256), 256, 0, ctx.stream()>>>(static_cast<uint4*>(x.raw()), n / 8);
  } else {
    dispatch_act(x, op, "x", [&](auto tag) {
      using T = decltype(tag);
      act_kernel<T, A><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.data<T>(), n);
    });
  }
  check_launch(op, describe("x", x));
}

}  // namespace

void gelu_erf(CudaContext& ctx, Tensor& x) { run_act<Act::kGeluErf>(ctx, "gelu_erf", x); }
void quick_gelu(CudaContext& ctx, Tensor& x) { run_act<Act::kQuickGelu>(ctx, "quick_gelu", x); }

void silu_mul(CudaContext& ctx, const Tensor& gate_up, Tensor& y) {
  const char* op = "silu_mul";
  require_device(gate_up, op, "gate_up");
  require_device(y, op, "y");
  const std::string shapes = describe("gate_up", gate_up) + ", " + describe("y", y);
  const int64_t I = y.dim(-1);
  require(gate_up.dim(-1) == 2 * I && gate_up.numel() == 2 * y.numel() && gate_up.dtype() == y.dtype(), op,
          "gate_up must be [T, 2I] for y [T, I]: " + shapes);
  const int64_t n = y.numel();
  if (n == 0) return;
  dispatch_act(y, op, "y", [&](auto tag) {
    using T = decltype(tag);
    const T* g = gate_up.data<T>();
    silu_mul_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(g, 2 * I, g + I, 2 * I, y.data<T>(), I, n);
  });
  check_launch(op, shapes);
}

void silu_mul_split(CudaContext& ctx, const Tensor& gate, const Tensor& up, Tensor& y) {
  const char* op = "silu_mul_split";
  require_device(gate, op, "gate");
  require_device(up, op, "up");
  require_device(y, op, "y");
  const std::string shapes = describe("gate", gate) + ", " + describe("up", up) + ", " + describe("y", y);
  require(gate.numel() == y.numel() && up.numel() == y.numel() && gate.dtype() == y.dtype() &&
              up.dtype() == y.dtype(), op, "shapes differ: " + shapes);
  const int64_t I = y.dim(-1), n = y.numel();
  if (n == 0) return;
  dispatch_act(y, op, "y", [&](auto tag) {
    using T = decltype(tag);
    silu_mul_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(gate.data<T>(), I, up.data<T>(), I, y.data<T>(), I, n);
  });
  check_launch(op, shapes);
}

}  // namespace folio::cuda
