// The fused ops' definitions (backend.h, "Fused ops"): each composed from the plain ops, used by
// backends that do not fuse it and by the CUDA backend for the shapes its fused kernels skip.
#include "backend/backend.h"
#include "core/error.h"

namespace folio {
void swiglu_add(Backend& be, const Tensor& x, const ExpertWeights& w, Tensor& h) {
  Tensor g = linear_new(be, x, w.gate);
  Tensor u = linear_new(be, x, w.up);
  be.silu_mul(g, u, g);
  be.linear_add(g, w.down, h);
}

void Backend::rms_norm_linear(const Tensor& x, const Tensor& norm_w, float eps, const std::vector<const Tensor*>& w,
                              const std::vector<Tensor*>& y) {
  if (w.size() != y.size()) throw internal_error("rms_norm_linear: one output per weight expected");
  Tensor xn = empty(x.shape(), act_dtype());
  rms_norm(x, norm_w, eps, xn);
  for (size_t i = 0; i < w.size(); ++i) linear(xn, *w[i], nullptr, *y[i]);
}

void Backend::linear_many(const Tensor& x, const std::vector<const Tensor*>& w, const std::vector<const Tensor*>& bias,
                          const std::vector<Tensor*>& y) {
  if (w.size() != y.size() || w.size() != bias.size())
    throw internal_error("linear_many: one bias slot and one output per weight expected");
  for (size_t i = 0; i < w.size(); ++i) linear(x, *w[i], bias[i], *y[i]);
}

void Backend::linear_add(const Tensor& x, const Tensor& w, Tensor& h) {
  Tensor y = linear_new(*this, x, w);
  add(h, y, h);
}

void Backend::rope_kv_store(Tensor& q, Tensor& k, const Tensor& v, const Tensor& positions, const Tensor& slots,
                            int heads, int head_dim, float theta, Tensor& k_pool, Tensor& v_pool) {
  rope_neox_dev(q, positions, heads, head_dim, theta);
  rope_neox_dev(k, positions, heads, head_dim, theta);
  kv_store(k, v, slots, k_pool, v_pool);
}

void Backend::rms_norm_route(const Tensor& h, const Tensor& norm_w, float eps, const Tensor& router, int k,
                             float scale, bool renormalise, Tensor& xn, Tensor& ids, Tensor& weights) {
  rms_norm(h, norm_w, eps, xn);
  Tensor xf = xn;
  if (xn.dtype() != DType::kF32) {
    xf = empty(h.shape(), DType::kF32);
    rms_norm(h, norm_w, eps, xf);
  }
  Tensor logits = empty({h.numel() / h.dim(-1), router.dim(0)}, DType::kF32);
  linear(xf, router, nullptr, logits);
  router_topk_dev(logits, k, scale, renormalise, ids, weights);
}

void Backend::moe_add(const Tensor& xn, const Tensor& ids, const Tensor& weights, int k,
                      const std::vector<ExpertWeights>& experts, const ExpertWeights& shared, Tensor& h) {
  Tensor routed = empty(xn.shape(), residual_dtype());  // fp32 on CUDA: no bf16 rounding before the add
  moe_experts_dev(xn, ids, weights, k, experts, routed);
  add(h, routed, h);
  if (shared.gate.defined()) swiglu_add(*this, xn, shared, h);
}

}  // namespace folio
