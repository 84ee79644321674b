// The decoder over a paged KV cache: prefill_paged runs one prompt (the plain forward pass into
// a temporary cache, then copied into the sequence's blocks; groups of prompts go through
// decoder_prefill.cpp), and decode steps run one token for every row of a batch with all
// indices on the device, so the engine can capture a step once per batch size and replay it.
// A step is written with the fused ops of backend.h (norm folded into the products, products
// that add into the residual, RoPE + KV store, router, experts + residual add): a backend that
// fuses them runs a few-row step in ~8 kernels per layer.
#include "core/error.h"
#include "models/deepseek_ocr/decoder.h"

namespace folio {

PagedKvCache Decoder::new_paged_cache(int64_t blocks, int block_size) {
  if (blocks <= 0 || block_size <= 0) throw internal_error("paged cache: blocks and block size must be positive");
  PagedKvCache c;
  c.block_size = block_size;
  c.blocks = blocks;
  const int64_t width = int64_t(cfg_.heads) * cfg_.head_dim;
  for (int l = 0; l < cfg_.layers; ++l) {
    c.k.push_back(be_.empty({blocks * block_size, width}, be_.act_dtype()));
    c.v.push_back(be_.empty({blocks * block_size, width}, be_.act_dtype()));
  }
  return c;
}

std::vector<float> Decoder::prefill_paged(PagedKvCache& cache, const Tensor& slots, const std::vector<int32_t>& ids,
                                          const Tensor* image_embeds, int image_token) {
  const int64_t T = static_cast<int64_t>(ids.size());
  if (slots.numel() != T) throw internal_error("prefill_paged: one slot per prompt token expected");
  KvCache tmp = new_cache(T);
  std::vector<float> logits = forward(tmp, ids, image_embeds, image_token, {});
  for (int l = 0; l < cfg_.layers; ++l) be_.kv_store(tmp.k[l], tmp.v[l], slots, cache.k[l], cache.v[l]);
  return logits;
}

void Decoder::paged_attention_block(Tensor& h, const DecoderLayerWeights& lw, PagedKvCache& cache, int layer,
                                    const DecodeBatch& b) {
  const int64_t B = h.dim(0), width = int64_t(cfg_.heads) * cfg_.head_dim;
  Tensor q = be_.empty({B, width}, be_.act_dtype()), k = be_.empty({B, width}, be_.act_dtype()),
         v = be_.empty({B, width}, be_.act_dtype());
  be_.rms_norm_linear(h, lw.input_norm.w, cfg_.rms_eps, {&lw.q, &lw.k, &lw.v}, {&q, &k, &v});
  be_.rope_kv_store(q, k, v, b.positions, b.slots, cfg_.heads, cfg_.head_dim, cfg_.rope_theta, cache.k[layer],
                    cache.v[layer]);
  Tensor a = be_.empty({B, width}, be_.act_dtype());
  be_.paged_attention(q, cache.k[layer], cache.v[layer], b.block_table, b.seq_lens, cache.block_size, attention_spec(),
                      a);
  be_.linear_add(a, lw.o, h);
}

void Decoder::paged_ffn_block(Tensor& h, const DecoderLayerWeights& lw) {
  if (lw.moe) {
    ffn_block(h, lw, /*routing_on_device=*/true);
    return;
  }
  const int64_t B = h.dim(0), I = lw.gate.dim(0);
  Tensor g = be_.empty({B, I}, be_.act_dtype()), u = be_.empty({B, I}, be_.act_dtype());
  be_.rms_norm_linear(h, lw.post_norm.w, cfg_.rms_eps, {&lw.gate, &lw.up}, {&g, &u});
  be_.silu_mul(g, u, g);
  be_.linear_add(g, lw.down, h);
}

void Decoder::decode_step(PagedKvCache& cache, DecodeBatch& b) {
  const int64_t B = b.rows();
  if (B == 0) throw internal_error("decode_step: empty batch");
  if (b.logits.dtype() != DType::kF32 || b.logits.numel() != B * cfg_.vocab)
    throw internal_error("decode_step: logits must be F32 [" + std::to_string(B) + ", vocab]");
  Tensor h = be_.empty({B, cfg_.hidden}, be_.residual_dtype());
  be_.gather_rows_dev(w_.embed_tokens, b.tokens, h);
  for (int l = 0; l < cfg_.layers; ++l) {
    paged_attention_block(h, w_.layers[l], cache, l, b);
    paged_ffn_block(h, w_.layers[l]);
  }
  be_.rms_norm_linear(h, w_.norm.w, cfg_.rms_eps, {&w_.lm_head}, {&b.logits});
}

}  // namespace folio
