#include "models/deepseek_ocr/decoder.h"

#include <cmath>

#include "core/error.h"

namespace folio {

KvCache Decoder::new_cache(int64_t capacity) {
  KvCache c;
  c.capacity = capacity;
  const int64_t width = int64_t(cfg_.heads) * cfg_.head_dim;
  for (int l = 0; l < cfg_.layers; ++l) {
    c.k.push_back(be_.empty({capacity, width}, be_.act_dtype()));
    c.v.push_back(be_.empty({capacity, width}, be_.act_dtype()));
  }
  return c;
}

Tensor Decoder::embed(const std::vector<int32_t>& ids, const Tensor* image_embeds, int image_token) {
  const int64_t T = static_cast<int64_t>(ids.size());
  std::vector<int32_t> text_idx(T), image_idx(T, -1);
  int32_t next_image = 0;
  for (int64_t i = 0; i < T; ++i) {
    if (ids[i] == image_token && image_embeds) {
      text_idx[i] = -1;
      image_idx[i] = next_image++;
    } else {
      if (ids[i] < 0 || ids[i] >= cfg_.vocab) throw invalid_input("token id " + std::to_string(ids[i]) + " is outside the vocabulary");
      text_idx[i] = ids[i];
    }
  }
  if (image_embeds && next_image != image_embeds->dim(0))
    throw invalid_input("the prompt has " + std::to_string(next_image) + " image placeholders but the image block has " +
                        std::to_string(image_embeds->dim(0)) + " rows");
  Tensor h = be_.empty({T, cfg_.hidden}, be_.residual_dtype());
  be_.gather_rows(w_.embed_tokens, text_idx, h);
  if (image_embeds && next_image > 0) {
    Tensor img = be_.empty({T, cfg_.hidden}, image_embeds->dtype());  // no rounding before the fp32 add
    be_.gather_rows(*image_embeds, image_idx, img);
    be_.add(h, img, h);
  }
  return h;
}

AttentionSpec Decoder::attention_spec() const {
  AttentionSpec spec;
  spec.heads = cfg_.heads;
  spec.head_dim = cfg_.head_dim;
  spec.scale = 1.0f / std::sqrt(static_cast<float>(cfg_.head_dim));
  spec.causal = true;
  return spec;
}

void Decoder::attention_block(Tensor& h, const DecoderLayerWeights& lw, KvCache& cache, int layer, int64_t start) {
  const int64_t T = h.dim(0), width = int64_t(cfg_.heads) * cfg_.head_dim;
  Tensor xn = be_.empty(h.shape(), be_.act_dtype());
  be_.rms_norm(h, lw.input_norm.w, cfg_.rms_eps, xn);
  Tensor q = linear_new(be_, xn, lw.q, nullptr);
  // New keys and values go straight into their cache rows.
  Tensor kdst = cache.k[layer].rows(start, start + T), vdst = cache.v[layer].rows(start, start + T);
  be_.linear(xn, lw.k, nullptr, kdst);
  be_.linear(xn, lw.v, nullptr, vdst);
  std::vector<int32_t> pos(T);
  for (int64_t i = 0; i < T; ++i) pos[i] = static_cast<int32_t>(start + i);
  be_.rope_neox(q, pos, cfg_.heads, cfg_.head_dim, cfg_.rope_theta);
  be_.rope_neox(kdst, pos, cfg_.heads, cfg_.head_dim, cfg_.rope_theta);
  const AttentionSpec spec = attention_spec();
  const int64_t keys = start + T;
  Tensor a = be_.empty({1, T, width}, be_.act_dtype());
  be_.attention(q.reshape({1, T, width}), cache.k[layer].rows(0, keys).reshape({1, keys, width}),
                cache.v[layer].rows(0, keys).reshape({1, keys, width}), a, spec);
  be_.linear_add(a.reshape({T, width}), lw.o, h);  // into the residual in fp32 (no bf16 temporary)
}

void Decoder::ffn_block(Tensor& h, const DecoderLayerWeights& lw, bool routing_on_device, int layer,
                        const RouteHook* route) {
  Tensor xn = be_.empty(h.shape(), be_.act_dtype());
  if (!lw.moe) {
    be_.rms_norm(h, lw.post_norm.w, cfg_.rms_eps, xn);
    swiglu_add(be_, xn, ExpertWeights{lw.gate, lw.up, lw.down}, h);
    return;
  }
  // Router in fp32 (§3.7): logits, softmax over all experts, top-k, weights as they are.
  const int64_t T = h.dim(0);
  Tensor ids = be_.empty({T, cfg_.top_k}, DType::kI32), weights = be_.empty({T, cfg_.top_k}, DType::kF32);
  be_.rms_norm_route(h, lw.post_norm.w, cfg_.rms_eps, lw.router, cfg_.top_k, cfg_.routed_scale, cfg_.norm_topk, xn,
                     ids, weights);
  if (routing_on_device) {
    be_.moe_add(xn, ids, weights, cfg_.top_k, lw.experts, lw.shared, h);
    return;
  }
  // Host routing (a RouteHook, or prefill_paged_batch asked for it): the counts per expert come
  // to the host, so the grouped products are sized exactly, and the hook may change the choice.
  const Tensor host_ids = be_.to_host(ids), host_w = be_.to_host(weights);
  std::vector<int32_t> id_vec(host_ids.data<int32_t>(), host_ids.data<int32_t>() + host_ids.numel());
  std::vector<float> w_vec(host_w.data<float>(), host_w.data<float>() + host_w.numel());
  if (route && *route) (*route)(layer, xn, lw.router, id_vec, w_vec);
  // The routed sum in the residual's dtype: on CUDA fp32, so it reaches h without a bf16 rounding.
  Tensor routed = be_.empty(h.shape(), be_.residual_dtype());
  be_.moe_experts(xn, id_vec, w_vec, cfg_.top_k, lw.experts, routed);
  be_.add(h, routed, h);
  if (lw.shared.gate.defined()) swiglu_add(be_, xn, lw.shared, h);
}

std::vector<float> Decoder::forward(KvCache& cache, const std::vector<int32_t>& ids, const Tensor* image_embeds,
                                    int image_token, const Trace& t, const RouteHook& route) {
  const int64_t T = static_cast<int64_t>(ids.size()), start = cache.length;
  if (T == 0) throw internal_error("decoder: no tokens");
  if (start + T > cache.capacity)
    throw too_large("sequence of " + std::to_string(start + T) + " tokens exceeds the context of " +
                    std::to_string(cache.capacity));
  Tensor h = embed(ids, image_embeds, image_token);
  for (int l = 0; l < cfg_.layers; ++l) {
    const DecoderLayerWeights& lw = w_.layers[l];
    attention_block(h, lw, cache, l, start);
    // The experts route on the device (their outputs summed in fp32 into h) unless a hook must
    // see the router's choice on the host (conformance).
    ffn_block(h, lw, /*routing_on_device=*/!route, l, &route);
    if (l == 0) trace(t, "lm_layer0", h);
  }
  cache.length = start + T;
  Tensor last = h.rows(T - 1, T);
  if (t) {
    Tensor all = be_.empty(h.shape(), be_.residual_dtype());
    be_.rms_norm(h, w_.norm.w, cfg_.rms_eps, all);
    trace(t, "lm_final_norm", all);
  }
  Tensor normed = be_.empty(last.shape(), be_.act_dtype());
  be_.rms_norm(last, w_.norm.w, cfg_.rms_eps, normed);
  // Logits straight to fp32 (the product accumulates in fp32): greedy choices between close
  // candidates must not be decided by a bf16 rounding of the logits.
  Tensor logits = be_.empty({1, cfg_.vocab}, DType::kF32);
  be_.linear(normed, w_.lm_head, nullptr, logits);
  Tensor host = be_.download_f32(logits);
  return std::vector<float>(host.data<float>(), host.data<float>() + host.numel());
}

}  // namespace folio
