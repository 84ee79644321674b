// The CUDA implementation of folio::Backend: bf16 activations (f16 in the vision encoder),
// fp32 accumulation. Each op forwards to its launcher (one .cu per op, see cuda_ops.h); memory
// goes through the context's pool.
#include <cstdlib>
#include <cstring>

#include "backend/backend.h"
#include "backend/cuda/cuda_check.h"
#include "backend/cuda/cuda_context.h"
#include "backend/cuda/cuda_graph.h"
#include "backend/cuda/cuda_ops.h"
#include "core/bf16.h"
#include "core/parallel.h"

namespace folio {
namespace {

bool fused_ops_enabled() {
  const char* v = std::getenv("FOLIO_CUDA_FUSED");
  return !(v && std::strcmp(v, "0") == 0);
}

// f16 unless FOLIO_CUDA_VISION=bf16 (A/B runs of precision and speed).
DType vision_dtype_from_env() {
  const char* v = std::getenv("FOLIO_CUDA_VISION");
  return v && std::strcmp(v, "bf16") == 0 ? DType::kBF16 : DType::kF16;
}

class CudaBackend final : public Backend {
 public:
  CudaBackend() : ctx_(std::make_shared<cuda::CudaContext>()) {}

  std::string name() const override { return "cuda"; }
  Device device() const override { return Device::kCUDA; }
  DType act_dtype() const override { return DType::kBF16; }
  DType residual_dtype() const override { return DType::kF32; }
  // The vision encoder runs in f16: its activations are normalised rows, products and attention
  // outputs of moderate range (the residual streams stay fp32), and f16 keeps 3 more mantissa
  // bits than bf16 at the same tensor-core rate — the difference between the encoder's stages
  // meeting the reference's tolerance or not.
  DType vision_dtype() const override { return vision_dtype_; }

  Tensor empty(const Shape& shape, DType dt) override { return ctx_->alloc_tensor(shape, dt, "empty"); }

  Tensor to_device(const Tensor& host) override {
    const char* op = "to_device";
    if (host.device() == Device::kCUDA) return host;
    Tensor d = ctx_->alloc_tensor(host.shape(), host.dtype(), op);
    if (host.nbytes())
      cuda::check(cudaMemcpyAsync(d.raw(), host.raw(), host.nbytes(), cudaMemcpyHostToDevice, ctx_->stream()), op,
                  cuda::describe("host", host));
    // Pageable sources: the copy has been staged when cudaMemcpyAsync returns, so `host` may go.
    return d;
  }

  Tensor to_host(const Tensor& t) override {
    if (t.device() == Device::kCPU) return t;
    Tensor h = Tensor::empty(t.shape(), t.dtype());
    ctx_->download(h.raw(), t.raw(), t.nbytes(), "to_host");
    return h;
  }

  Tensor upload_f32(const Tensor& host) override {
    const char* op = "upload_f32";
    Tensor src = host.device() == Device::kCUDA ? to_host(host) : host;
    if (src.dtype() != DType::kF32) src = src.to_f32();
    Tensor staged = Tensor::empty(src.shape(), DType::kBF16);
    const float* f = src.data<float>();
    uint16_t* b = staged.data<uint16_t>();
    // Over the worker pool: an encoder view's pixels are millions of values.
    parallel_for(src.numel(), 1 << 16, [&](int64_t lo, int64_t hi) {
      for (int64_t i = lo; i < hi; ++i) b[i] = f32_to_bf16(f[i]);
    });
    Tensor d = ctx_->alloc_tensor(src.shape(), DType::kBF16, op);
    if (staged.nbytes())
      cuda::check(cudaMemcpyAsync(d.raw(), staged.raw(), staged.nbytes(), cudaMemcpyHostToDevice, ctx_->stream()), op,
                  cuda::describe("host", host));
    return d;
  }

  Tensor download_f32(const Tensor& t) override {
    Tensor h = to_host(t);
    return h.dtype() == DType::kF32 ? h : h.to_f32();
  }

  void write(Tensor& dst, const Tensor& host) override {
    cuda::require_device(dst, "write", "dst");
    const bool to_16 = host.dtype() == DType::kF32 && is_16bit_float(dst.dtype());
    cuda::require(dst.numel() == host.numel() && (dst.dtype() == host.dtype() || to_16) && host.device() == Device::kCPU,
                  "write", cuda::describe("host", host) + " into " + cuda::describe("dst", dst));
    if (to_16)
      ctx_->upload_into_16(dst.raw(), host.data<float>(), static_cast<size_t>(host.numel()), dst.dtype(), "write");
    else
      ctx_->upload_into(dst.raw(), host.raw(), host.nbytes(), "write");
  }

  void synchronize() override { ctx_->synchronize("synchronize"); }

  std::vector<std::pair<std::string, int64_t>> memory_stats() override {
    const auto m = ctx_->memory_stats();
    return {{"pool_used_bytes", m.pool_used},
            {"pool_used_peak_bytes", m.pool_used_peak},
            {"pool_reserved_peak_bytes", m.pool_reserved_peak},
            {"device_used_bytes", m.device_used},
            {"device_total_bytes", m.device_total}};
  }

  void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) override {
    cuda::linear(*ctx_, x, w, bias, y);
  }
  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) override {
    cuda::layer_norm(*ctx_, x, w, b, eps, y);
  }
  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& y) override { cuda::rms_norm(*ctx_, x, w, eps, y); }
  void add(const Tensor& a, const Tensor& b, Tensor& y) override { cuda::add(*ctx_, a, b, y); }
  void add_broadcast(Tensor& x, const Tensor& p) override { cuda::add_broadcast(*ctx_, x, p); }
  void gelu_erf(Tensor& x) override { cuda::gelu_erf(*ctx_, x); }
  void quick_gelu(Tensor& x) override { cuda::quick_gelu(*ctx_, x); }
  // y may alias gate: the kernel reads gate[e] and up[e] before it writes y[e].
  void silu_mul(const Tensor& gate, const Tensor& up, Tensor& y) override {
    cuda::silu_mul_split(*ctx_, gate, up, y);
  }
  void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) override {
    cuda::attention(*ctx_, q, k, v, out, spec);
  }
  void rope_neox(Tensor& x, const std::vector<int32_t>& positions, int heads, int head_dim, float theta) override {
    cuda::rope_neox(*ctx_, x, positions, heads, head_dim, theta);
  }
  void gather_rows(const Tensor& src, const std::vector<int32_t>& index, Tensor& dst) override {
    cuda::gather_rows(*ctx_, src, index, dst);
  }
  void concat_cols(const Tensor& a, const Tensor& b, Tensor& y) override { cuda::concat_cols(*ctx_, a, b, y); }
  void im2col(const Tensor& x, int kernel, int stride, int pad, Tensor& cols) override {
    cuda::im2col(*ctx_, x, kernel, stride, pad, cols);
  }
  void router_topk(const Tensor& logits, int k, float scale, std::vector<int32_t>& ids,
                   std::vector<float>& weights) override {
    cuda::router_topk(*ctx_, logits, k, scale, ids, weights);
  }
  void moe_experts(const Tensor& x, const std::vector<int32_t>& ids, const std::vector<float>& weights, int k,
                   const std::vector<ExpertWeights>& experts, Tensor& y) override {
    cuda::moe_experts(*ctx_, x, ids, weights, k, experts, y);
  }
  void cast_f32(const Tensor& x, Tensor& y) override {
    cuda::require(y.dtype() == DType::kF32, "cast_f32", cuda::describe("y", y) + " must be F32");
    cuda::convert(*ctx_, x, y, "cast_f32");
  }

  void gather_rows_dev(const Tensor& src, const Tensor& index, Tensor& dst) override {
    cuda::gather_rows_dev(*ctx_, src, index, dst);
  }
  void rope_neox_dev(Tensor& x, const Tensor& positions, int heads, int head_dim, float theta) override {
    cuda::rope_neox_dev(*ctx_, x, positions, heads, head_dim, theta);
  }
  void kv_store(const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool) override {
    cuda::kv_store(*ctx_, k, v, slots, k_pool, v_pool);
  }
  void paged_attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool, const Tensor& block_table,
                       const Tensor& seq_lens, int block_size, const AttentionSpec& spec, Tensor& out) override {
    cuda::paged_attention(*ctx_, q, k_pool, v_pool, block_table, seq_lens, block_size, spec, out);
  }
  void router_topk_dev(const Tensor& logits, int k, float scale, bool renormalise, Tensor& ids,
                       Tensor& weights) override {
    cuda::router_topk_dev(*ctx_, logits, k, scale, renormalise, ids, weights);
  }
  void moe_experts_dev(const Tensor& x, const Tensor& ids, const Tensor& weights, int k,
                       const std::vector<ExpertWeights>& experts, Tensor& y) override {
    cuda::moe_experts_dev(*ctx_, x, ids, weights, k, experts, y);
  }
  // Fused ops: the CUDA kernels where they cover the case (a few rows, bf16 weights), else the
  // composition. FOLIO_CUDA_FUSED=0 turns them off (A/B measurements).
  void rms_norm_linear(const Tensor& x, const Tensor& norm_w, float eps, const std::vector<const Tensor*>& w,
                       const std::vector<Tensor*>& y) override {
    if (fused_ && cuda::rms_norm_linear_small(*ctx_, x, norm_w, eps, w, y)) return;
    Backend::rms_norm_linear(x, norm_w, eps, w, y);
  }
  // The encoders' residual adds ride on the product: cuBLASLt reads the f32 residual as C with
  // beta 1 and adds the bias in its epilogue, so no bf16 temporary is written and read back
  // (and the product is not rounded to bf16 before the add).
  void linear_then(const Tensor& x, const Tensor& w, const Tensor* bias, LinearThen then, Tensor& y) override {
    if (fused_ && then == LinearThen::kAddTo && y.dtype() == DType::kF32 && is_16bit_float(x.dtype()) && w.dtype() == x.dtype())
      return cuda::linear(*ctx_, x, w, bias, y, /*accumulate=*/true);
    Backend::linear_then(x, w, bias, then, y);
  }
  void linear_add(const Tensor& x, const Tensor& w, Tensor& h) override {
    if (!fused_) return Backend::linear_add(x, w, h);
    cuda::linear(*ctx_, x, w, nullptr, h, /*accumulate=*/true);
  }
  void rope_kv_store(Tensor& q, Tensor& k, const Tensor& v, const Tensor& positions, const Tensor& slots, int heads,
                     int head_dim, float theta, Tensor& k_pool, Tensor& v_pool) override {
    if (!fused_) return Backend::rope_kv_store(q, k, v, positions, slots, heads, head_dim, theta, k_pool, v_pool);
    cuda::rope_kv_store(*ctx_, q, k, v, positions, slots, heads, head_dim, theta, k_pool, v_pool);
  }
  void rms_norm_route(const Tensor& h, const Tensor& norm_w, float eps, const Tensor& router, int k, float scale,
                      bool renormalise, Tensor& xn, Tensor& ids, Tensor& weights) override {
    if (fused_ && cuda::rms_norm_route(*ctx_, h, norm_w, eps, router, k, scale, renormalise, xn, ids, weights)) return;
    Backend::rms_norm_route(h, norm_w, eps, router, k, scale, renormalise, xn, ids, weights);
  }
  void moe_add(const Tensor& xn, const Tensor& ids, const Tensor& weights, int k,
               const std::vector<ExpertWeights>& experts, const ExpertWeights& shared, Tensor& h) override {
    if (fused_ && cuda::moe_add_small(*ctx_, xn, ids, weights, k, experts, shared, h)) return;
    Backend::moe_add(xn, ids, weights, k, experts, shared, h);
  }

  void greedy_next(const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                   const Tensor& window, const Tensor& whitelist, Tensor& next) override {
    cuda::greedy_next(*ctx_, logits, history, history_len, ngram, window, whitelist, next);
  }
  void advance_positions(Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table,
                         int block_size) override {
    cuda::advance_positions(*ctx_, positions, seq_lens, slots, block_table, block_size);
  }
  std::unique_ptr<Replay> capture(const std::function<void()>& body) override {
    return cuda::capture_graph(ctx_, body);
  }

 private:
  std::shared_ptr<cuda::CudaContext> ctx_;
  const bool fused_ = fused_ops_enabled();
  const DType vision_dtype_ = vision_dtype_from_env();
};

}  // namespace

std::unique_ptr<Backend> make_cuda_backend() { return std::make_unique<CudaBackend>(); }

}  // namespace folio
