// NeoX ("rotate half") RoPE in place: for each head, pairs (i, i + D/2) rotate by
// pos * theta^(-2i/D). Angles in fp32 as HF computes them (inv_freq in fp32, then pos * inv_freq).
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

template <class T>
__global__ void rope_kernel(T* x, const int32_t* pos, int64_t T_, int heads, int D, float theta) {
  const int half = D / 2;
  const int64_t n = T_ * heads * half;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int i = static_cast<int>(e % half);
    const int64_t th = e / half;  // t * heads + h
    const int64_t t = th / heads;
    const float inv_freq = 1.f / powf(theta, static_cast<float>(2 * i) / static_cast<float>(D));
    const float angle = static_cast<float>(pos[t]) * inv_freq;
    float s, c;
    sincosf(angle, &s, &c);
    T* row = x + th * D;
    const float a = to_f32(row[i]), b = to_f32(row[i + half]);
    row[i] = from_f32<T>(a * c - b * s);
    row[i + half] = from_f32<T>(b * c + a * s);
  }
}

}  // namespace

void rope_neox(CudaContext& ctx, Tensor& x, const std::vector<int32_t>& positions, int heads, int head_dim,
               float theta) {
  const char* op = "rope_neox";
  require_device(x, op, "x");
  const std::string shapes = describe("x", x) + ", heads " + std::to_string(heads) + ", head_dim " +
                             std::to_string(head_dim) + ", positions " + std::to_string(positions.size());
  require(heads > 0 && head_dim > 0 && head_dim % 2 == 0 && x.dim(-1) == int64_t(heads) * head_dim, op,
          "x must be [T, heads*head_dim] with even head_dim: " + shapes);
  const int64_t T_ = x.numel() / x.dim(-1);
  require(static_cast<int64_t>(positions.size()) == T_, op, "one position per row expected: " + shapes);
  if (T_ == 0) return;
  DeviceScratch pos = ctx.upload(positions.data(), positions.size() * sizeof(int32_t), op);
  const int64_t n = T_ * heads * (head_dim / 2);
  dispatch_act(x, op, "x", [&](auto tag) {
    using T = decltype(tag);
    rope_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.data<T>(), pos.as<int32_t>(), T_, heads, head_dim,
                                                                theta);
  });
  check_launch(op, shapes);
}

void rope_neox_dev(CudaContext& ctx, Tensor& x, const Tensor& positions, int heads, int head_dim, float theta) {
  const char* op = "rope_neox_dev";
  require_device(x, op, "x");
  require_device(positions, op, "positions");
  const std::string shapes = describe("x", x) + ", " + describe("positions", positions);
  require(heads > 0 && head_dim > 0 && head_dim % 2 == 0 && x.dim(-1) == int64_t(heads) * head_dim &&
              positions.dtype() == DType::kI32,
          op, "x [T, heads*head_dim] with even head_dim and I32 positions expected: " + shapes);
  const int64_t T_ = x.numel() / x.dim(-1);
  require(positions.numel() == T_, op, "one position per row expected: " + shapes);
  if (T_ == 0) return;
  const int64_t n = T_ * heads * (head_dim / 2);
  dispatch_act(x, op, "x", [&](auto tag) {
    using T = decltype(tag);
    rope_kernel<T><<<grid_for(n, 256), 256, 0, ctx.stream()>>>(x.data<T>(), positions.data<int32_t>(), T_, heads,
                                                                head_dim, theta);
  });
  check_launch(op, shapes);
}

}  // namespace folio::cuda
