// dst[i] = src[index[i]] converted to dst's dtype, zeros where index[i] < 0 (image-token slots
// filled later). src is typically an embedding table in the checkpoint's dtype.
#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/dispatch.cuh"

namespace folio::cuda {
namespace {

template <class T>
__global__ void gather_kernel(const void* src, int sdt, const int32_t* index, T* dst, int64_t rows, int64_t C) {
  const int64_t n = rows * C;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / C, c = e % C;
    const int32_t s = index[r];
    dst[e] = from_f32<T>(s < 0 ? 0.f : load_any(src, sdt, int64_t(s) * C + c));
  }
}

// Same-dtype rows whose bytes are a multiple of 16 (the encoders' window partition and merge,
// the image-block layout): 16-byte chunks, one division per chunk instead of per element.
__global__ void gather_chunks_kernel(const uint4* src, const int32_t* index, uint4* dst, int64_t rows, int chunks) {
  const int64_t n = rows * chunks;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < n; e += int64_t(gridDim.x) * blockDim.x) {
    const int64_t r = e / chunks;
    const int32_t s = index[r];
    dst[e] = s < 0 ? make_uint4(0, 0, 0, 0) : src[int64_t(s) * chunks + (e - r * chunks)];
  }
}

void launch_gather(CudaContext& ctx, const Tensor& src, const int32_t* index, Tensor& dst, int64_t rows, int64_t C,
                   const char* op) {
  const int64_t row_bytes = C * int64_t(dtype_size(dst.dtype()));
  if (src.dtype() == dst.dtype() && row_bytes % 16 == 0 && pointer_alignment(src.raw()) >= 16 &&
      pointer_alignment(dst.raw()) >= 16) {
    const int chunks = int(row_bytes / 16);
    gather_chunks_kernel<<<grid_for(rows * chunks, 256), 256, 0, ctx.stream()>>>(
        static_cast<const uint4*>(src.raw()), index, static_cast<uint4*>(dst.raw()), rows, chunks);
    return;
  }
  const int sdt = float_dtype_code(src.dtype(), op, "src");
  dispatch_act(dst, op, "dst", [&](auto tag) {
    using T = decltype(tag);
    gather_kernel<T><<<grid_for(rows * C, 256), 256, 0, ctx.stream()>>>(src.raw(), sdt, index, dst.data<T>(), rows, C);
  });
}

}  // namespace

void gather_rows(CudaContext& ctx, const Tensor& src, const std::vector<int32_t>& index, Tensor& dst) {
  const char* op = "gather_rows";
  require_device(src, op, "src");
  require_device(dst, op, "dst");
  const std::string shapes = describe("src", src) + ", " + describe("dst", dst) + ", " +
                             std::to_string(index.size()) + " indices";
  require(src.ndim() == 2 && dst.ndim() >= 1 && dst.dim(-1) == src.dim(1), op, "src must be [V, C], dst [n, C]: " + shapes);
  const int64_t C = src.dim(1), rows = C ? dst.numel() / C : 0;
  require(static_cast<int64_t>(index.size()) == rows, op, "one index per dst row expected: " + shapes);
  for (size_t i = 0; i < index.size(); ++i)
    if (index[i] >= src.dim(0))
      fail(op, "index[" + std::to_string(i) + "] = " + std::to_string(index[i]) + " is out of range: " + shapes);
  if (rows == 0 || C == 0) return;
  DeviceScratch idx = ctx.upload(index.data(), index.size() * sizeof(int32_t), op);
  launch_gather(ctx, src, idx.as<int32_t>(), dst, rows, C, op);
  check_launch(op, shapes);
}

void gather_rows_dev(CudaContext& ctx, const Tensor& src, const Tensor& index, Tensor& dst) {
  const char* op = "gather_rows_dev";
  require_device(src, op, "src");
  require_device(index, op, "index");
  require_device(dst, op, "dst");
  const std::string shapes = describe("src", src) + ", " + describe("index", index) + ", " + describe("dst", dst);
  require(src.ndim() == 2 && dst.dim(-1) == src.dim(1) && index.dtype() == DType::kI32, op,
          "src [V, C], I32 index and dst [n, C] expected: " + shapes);
  const int64_t C = src.dim(1), rows = C ? dst.numel() / C : 0;
  require(index.numel() == rows, op, "one index per dst row expected: " + shapes);
  if (rows == 0 || C == 0) return;
  // Indices are not checked on the host (they never leave the device); the engine only feeds
  // ids the sampler produced from the vocabulary.
  launch_gather(ctx, src, index.data<int32_t>(), dst, rows, C, op);
  check_launch(op, shapes);
}

}  // namespace folio::cuda
