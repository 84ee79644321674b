// Programmatic dependent launch (Hopper): a kernel launched with launch_pdl may start while the
// kernel before it on the stream is still finishing, and runs up to wait_for_inputs() in that
// overlap. The decode step's weight-streaming kernels use it to pull their weight rows towards
// L2 (prefetch_rows) during the previous kernel's tail, instead of paying launch and DRAM
// latency after it: a single-stream step is ~100 short kernels, so those gaps add up.
// Rule: before wait_for_inputs() a kernel reads only weights (never written by any kernel) and
// writes nothing; everything else comes after. Launched without the attribute (or on older
// GPUs) the wait returns at once.
#pragma once
#include <cuda_runtime.h>

#include <utility>

namespace folio::cuda {

__device__ __forceinline__ void wait_for_inputs() {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  asm volatile("griddepcontrol.wait;" ::: "memory");
  // This kernel's inputs are complete: the next kernel may start its own prologue.
  asm volatile("griddepcontrol.launch_dependents;");
#endif
}

// The lanes of a warp prefetch [p, p + bytes) into L2, one 128-byte line each per round.
__device__ __forceinline__ void prefetch_rows(const void* p, int64_t bytes, int lane) {
  const char* c = static_cast<const char*>(p);
  for (int64_t off = int64_t(lane) * 128; off < bytes; off += 32 * 128)
    asm volatile("prefetch.global.L2 [%0];" ::"l"(c + off));
}

// kernel<<<grid, block, smem, stream>>>(args...) with programmatic stream serialization.
template <class... Params, class... Args>
cudaError_t launch_pdl(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem, cudaStream_t stream,
                       Args&&... args) {
  cudaLaunchConfig_t cfg{};
  cfg.gridDim = grid;
  cfg.blockDim = block;
  cfg.dynamicSmemBytes = smem;
  cfg.stream = stream;
  cudaLaunchAttribute attr[1];
  attr[0].id = cudaLaunchAttributeProgrammaticStreamSerialization;
  attr[0].val.programmaticStreamSerializationAllowed = 1;
  cfg.attrs = attr;
  cfg.numAttrs = 1;
  return cudaLaunchKernelEx(&cfg, kernel, std::forward<Args>(args)...);
}

}  // namespace folio::cuda
