// Asynchronous global -> shared copies (cp.async, sm_80+): the loads of the next tiles are in
// flight while the tensor cores work on the current one, which is what keeps weight-streaming
// kernels near memory bandwidth.
#pragma once
#include <cstdint>

namespace folio::cuda {

// Copies 16 bytes, or writes 16 zero bytes when `valid` is false (src-size 0: nothing is read).
__device__ __forceinline__ void cp_async16(void* smem, const void* gmem, bool valid) {
  const uint32_t s = static_cast<uint32_t>(__cvta_generic_to_shared(smem));
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(gmem), "r"(valid ? 16 : 0));
}

__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::); }

// Waits until at most N committed groups are still in flight.
template <int N>
__device__ __forceinline__ void cp_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(N));
}

}  // namespace folio::cuda
