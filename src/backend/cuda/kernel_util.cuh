// Device helpers shared by the kernels: dtype-generic loads/stores, warp/block reductions and
// the launch-size helper. Activations are bf16 (the vision encoder's f16; sometimes f32);
// weights F32, F16 or BF16.
#pragma once
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <cstdint>
#include <type_traits>

#include "backend/cuda/cuda_check.h"

namespace folio::cuda {

using bf16 = __nv_bfloat16;
using f16 = __half;

__device__ __forceinline__ float to_f32(float v) { return v; }
__device__ __forceinline__ float to_f32(bf16 v) { return __bfloat162float(v); }
__device__ __forceinline__ float to_f32(__half v) { return __half2float(v); }

template <class T>
__device__ __forceinline__ T from_f32(float v);
template <>
__device__ __forceinline__ float from_f32<float>(float v) { return v; }
template <>
__device__ __forceinline__ bf16 from_f32<bf16>(float v) { return __float2bfloat16_rn(v); }
template <>
__device__ __forceinline__ f16 from_f32<f16>(float v) { return __float2half_rn(v); }

// Two 16-bit values (bf16 or f16, T) in one 32-bit word, low half first: how the vectorised
// kernels and the mma fragments hold them.
template <class T>
__device__ __forceinline__ uint32_t pack2(float lo, float hi) {
  static_assert(sizeof(T) == 2, "pack2 is for 16-bit types");
  uint32_t r;
  if constexpr (std::is_same_v<T, bf16>) {
    const __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
    memcpy(&r, &v, 4);
  } else {
    const __half2 v = __floats2half2_rn(lo, hi);
    memcpy(&r, &v, 4);
  }
  return r;
}
template <class T>
__device__ __forceinline__ float2 unpack2(uint32_t bits) {
  static_assert(sizeof(T) == 2, "unpack2 is for 16-bit types");
  if constexpr (std::is_same_v<T, bf16>) {
    __nv_bfloat162 v;
    memcpy(&v, &bits, 4);
    return __bfloat1622float2(v);
  } else {
    __half2 v;
    memcpy(&v, &bits, 4);
    return __half22float2(v);
  }
}

// Element i of a weight whose dtype is only known at run time (uniform branch).
__device__ __forceinline__ float load_any(const void* p, int dt, int64_t i) {
  if (dt == kDtBF16) return __bfloat162float(static_cast<const bf16*>(p)[i]);
  if (dt == kDtF16) return __half2float(static_cast<const __half*>(p)[i]);
  return static_cast<const float*>(p)[i];
}

__device__ __forceinline__ float warp_sum(float v) {
  for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
  return v;
}
__device__ __forceinline__ float warp_max(float v) {
  for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
  return v;
}

// Arg-max over the warp: every lane ends with the largest value and, on ties, the lowest index.
__device__ __forceinline__ void warp_argmax(float& v, int& i) {
  for (int o = 16; o > 0; o >>= 1) {
    const float ov = __shfl_xor_sync(0xffffffffu, v, o);
    const int oi = __shfl_xor_sync(0xffffffffu, i, o);
    if (ov > v || (ov == v && oi < i)) {
      v = ov;
      i = oi;
    }
  }
}

// Sum over the block; every thread gets the result. `scratch` holds 32 floats.
__device__ __forceinline__ float block_sum(float v, float* scratch) {
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  v = warp_sum(v);
  __syncthreads();  // scratch may still be read from a previous call
  if (lane == 0) scratch[warp] = v;
  __syncthreads();
  const int nwarps = (blockDim.x + 31) >> 5;
  float r = lane < nwarps ? scratch[lane] : 0.f;
  return warp_sum(r);
}

// Grid size for a grid-stride loop over n elements.
inline unsigned grid_for(int64_t n, int threads) {
  int64_t blocks = (n + threads - 1) / threads;
  if (blocks > 65535LL * 16) blocks = 65535LL * 16;
  return static_cast<unsigned>(blocks < 1 ? 1 : blocks);
}

}  // namespace folio::cuda
