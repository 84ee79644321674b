// NeoX ("rotate half") RoPE in place: for each head, pairs (i, i + D/2) rotate by
// pos * theta^(-2i/D). Angles in fp32 as HF computes them (inv_freq in fp32, then pos * inv_freq).
// rope_kv_store also writes the rotated keys and the values to their paged-cache slots (the
// decode step's rope + kv_store in one kernel).
#include <algorithm>
#include <initializer_list>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

// The rotation of pair (i, i + D/2) at position pos, in fp32 as HF computes it.
__device__ __forceinline__ void rope_angle(int32_t pos, int i, int D, float theta, float& s, float& c) {
  const float inv_freq = 1.f / powf(theta, static_cast<float>(2 * i) / static_cast<float>(D));
  sincosf(static_cast<float>(pos) * inv_freq, &s, &c);
}

// Rotates the pair (row[i], row[i + half]) in place by the angle whose sine/cosine are s, c;
// returns the rotated values as stored (rounded to T).
template <class T>
__device__ __forceinline__ void rotate_pair(T* row, int i, int half, float s, float c, T& lo, T& hi) {
  const float a = to_f32(row[i]), b = to_f32(row[i + half]);
  lo = from_f32<T>(a * c - b * s);
  hi = from_f32<T>(b * c + a * s);
  row[i] = lo;
  row[i + half] = hi;
}

template <class T>
__global__ void rope_kernel(T* x, const int32_t* pos, int64_t T_, int heads, int D, float theta) {
  const int half = D / 2;
  const int64_t n = T_ * heads * half;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int i = static_cast<int>(e % half);
    const int64_t th = e / half;  // t * heads + h
    float s, c;
    rope_angle(pos[th / heads], i, D, theta, s, c);
    T lo, hi;
    rotate_pair(x + th * D, i, half, s, c, lo, hi);
  }
}

// rope of q and k in place, then k and v stored at the row's cache slot (none when slot < 0):
// one thread per (row, head, pair).
__global__ void rope_kv_store_kernel(bf16* q, bf16* k, const bf16* v, const int32_t* pos, const int32_t* slots,
                                     int64_t T_, int heads, int D, float theta, bf16* kp, bf16* vp) {
  const int half = D / 2;
  const int64_t n = T_ * heads * half, W = int64_t(heads) * D;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int i = static_cast<int>(e % half);
    const int64_t th = e / half, t = th / heads, col = (th % heads) * D + i;
    float s, c;
    rope_angle(pos[t], i, D, theta, s, c);
    bf16 q0, q1, k0, k1;
    rotate_pair(q + th * D, i, half, s, c, q0, q1);
    rotate_pair(k + th * D, i, half, s, c, k0, k1);
    const int32_t slot = slots[t];
    if (slot < 0) continue;  // inactive row
    bf16* kd = kp + int64_t(slot) * W + col;
    bf16* vd = vp + int64_t(slot) * W + col;
    const bf16* vr = v + t * W + col;
    kd[0] = k0;
    kd[half] = k1;
    vd[0] = vr[0];
    vd[half] = vr[half];
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

void rope_kv_store(CudaContext& ctx, Tensor& q, Tensor& k, const Tensor& v, const Tensor& positions, const Tensor& slots,
                   int heads, int head_dim, float theta, Tensor& k_pool, Tensor& v_pool) {
  const char* op = "rope_kv_store";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&q, &k, &v, &positions, &slots, &k_pool, &v_pool}) require_device(*t, op, "argument");
  const int64_t W = int64_t(heads) * head_dim, T_ = q.numel() / std::max<int64_t>(W, 1);
  const std::string shapes = describe("q", q) + ", " + describe("k", k) + ", " + describe("k_pool", k_pool);
  require(heads > 0 && head_dim > 0 && head_dim % 2 == 0 && q.dim(-1) == W && k.numel() == q.numel() &&
              v.numel() == q.numel() && k_pool.dim(-1) == W && v_pool.numel() == k_pool.numel() &&
              positions.numel() == T_ && slots.numel() == T_ && positions.dtype() == DType::kI32 &&
              slots.dtype() == DType::kI32,
          op, "q/k/v [T, heads*head_dim], I32 positions/slots [T] and pools [S, W] expected: " + shapes);
  require(q.dtype() == DType::kBF16 && k.dtype() == DType::kBF16 && v.dtype() == DType::kBF16 &&
              k_pool.dtype() == DType::kBF16 && v_pool.dtype() == DType::kBF16,
          op, "BF16 tensors expected: " + shapes);
  if (T_ == 0) return;
  const int64_t n = T_ * heads * (head_dim / 2);
  rope_kv_store_kernel<<<grid_for(n, 256), 256, 0, ctx.stream()>>>(
      q.data<bf16>(), k.data<bf16>(), v.data<bf16>(), positions.data<int32_t>(), slots.data<int32_t>(), T_, heads,
      head_dim, theta, k_pool.data<bf16>(), v_pool.data<bf16>());
  check_launch(op, shapes);
}

}  // namespace folio::cuda
