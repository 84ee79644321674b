// Batched prefill over the paged KV cache: the prompts of several newly admitted sequences run
// as one forward pass. Every product, norm and the MoE see the stacked rows of all prompts (one
// large matrix product instead of one per prompt); only attention is per prompt. No padding:
// equal-length prompts (the usual case: one mode, one prompt) go through one attention call
// as [B, T, H*D], others one call each. Keys/values are written straight to their cache slots.
#include <algorithm>

#include "core/error.h"
#include "models/deepseek_ocr/decoder.h"

namespace folio {

void Decoder::prefill_attention_block(Tensor& h, const DecoderLayerWeights& lw, PagedKvCache& cache, int layer,
                                      const std::vector<int32_t>& positions, const std::vector<int64_t>& lengths,
                                      const Tensor& slots) {
  const int64_t N = h.dim(0), width = int64_t(cfg_.heads) * cfg_.head_dim;
  Tensor xn = be_.empty(h.shape(), be_.act_dtype());
  be_.rms_norm(h, lw.input_norm.w, cfg_.rms_eps, xn);
  Tensor q = linear_new(be_, xn, lw.q, nullptr);
  Tensor k = linear_new(be_, xn, lw.k, nullptr);
  Tensor v = linear_new(be_, xn, lw.v, nullptr);
  be_.rope_neox(q, positions, cfg_.heads, cfg_.head_dim, cfg_.rope_theta);
  be_.rope_neox(k, positions, cfg_.heads, cfg_.head_dim, cfg_.rope_theta);
  be_.kv_store(k, v, slots, cache.k[layer], cache.v[layer]);
  const AttentionSpec spec = attention_spec();
  Tensor a = be_.empty({N, width}, be_.act_dtype());
  const int64_t B = static_cast<int64_t>(lengths.size());
  const bool equal = std::all_of(lengths.begin(), lengths.end(), [&](int64_t t) { return t == lengths[0]; });
  if (equal) {
    const int64_t T = lengths[0];
    Tensor out = a.reshape({B, T, width});
    be_.attention(q.reshape({B, T, width}), k.reshape({B, T, width}), v.reshape({B, T, width}), out, spec);
  } else {
    int64_t off = 0;
    for (const int64_t T : lengths) {
      Tensor out = a.rows(off, off + T).reshape({1, T, width});
      be_.attention(q.rows(off, off + T).reshape({1, T, width}), k.rows(off, off + T).reshape({1, T, width}),
                    v.rows(off, off + T).reshape({1, T, width}), out, spec);
      off += T;
    }
  }
  be_.linear_add(a, lw.o, h);  // into the residual in fp32 (no bf16 temporary)
}

std::vector<float> Decoder::prefill_paged_batch(PagedKvCache& cache, const Tensor& slots,
                                                const std::vector<PrefillSequence>& seqs, int image_token,
                                                bool routing_on_device) {
  if (seqs.empty()) throw internal_error("prefill_paged_batch: no prompts");
  std::vector<int64_t> lengths;
  std::vector<int32_t> ids, positions;
  for (const PrefillSequence& s : seqs) {
    if (!s.ids || s.ids->empty()) throw internal_error("prefill_paged_batch: an empty prompt");
    const int64_t T = static_cast<int64_t>(s.ids->size());
    if (T > cfg_.max_positions)
      throw too_large("a prompt of " + std::to_string(T) + " tokens exceeds the context of " +
                      std::to_string(cfg_.max_positions));
    lengths.push_back(T);
    ids.insert(ids.end(), s.ids->begin(), s.ids->end());
    for (int64_t p = 0; p < T; ++p) positions.push_back(static_cast<int32_t>(p));
  }
  const int64_t N = static_cast<int64_t>(ids.size()), B = static_cast<int64_t>(seqs.size());
  if (slots.numel() != N) throw internal_error("prefill_paged_batch: one slot per prompt token expected");

  // Embeddings: text rows for all prompts at once, then each prompt's image rows added over
  // its placeholders (embed() per prompt checks that the counts match).
  Tensor h = be_.empty({N, cfg_.hidden}, be_.residual_dtype());
  {
    std::vector<int32_t> text_idx(N);
    for (int64_t i = 0; i < N; ++i) {
      const bool image_row = ids[i] == image_token;
      if (!image_row && (ids[i] < 0 || ids[i] >= cfg_.vocab))
        throw invalid_input("token id " + std::to_string(ids[i]) + " is outside the vocabulary");
      text_idx[i] = image_row ? -1 : ids[i];
    }
    // Placeholders of a prompt without an image embed as the token itself (like embed()).
    int64_t off = 0;
    for (const PrefillSequence& s : seqs) {
      const int64_t T = static_cast<int64_t>(s.ids->size());
      if (!s.image_embeds)
        for (int64_t i = 0; i < T; ++i) text_idx[off + i] = (*s.ids)[i];
      off += T;
    }
    be_.gather_rows(w_.embed_tokens, text_idx, h);
    off = 0;
    for (const PrefillSequence& s : seqs) {
      const int64_t T = static_cast<int64_t>(s.ids->size());
      if (s.image_embeds) {
        std::vector<int32_t> image_idx(T, -1);
        int32_t next = 0;
        for (int64_t i = 0; i < T; ++i)
          if ((*s.ids)[i] == image_token) image_idx[i] = next++;
        if (next != s.image_embeds->dim(0))
          throw invalid_input("the prompt has " + std::to_string(next) + " image placeholders but the image block has " +
                              std::to_string(s.image_embeds->dim(0)) + " rows");
        if (next > 0) {
          Tensor img = be_.empty({T, cfg_.hidden}, s.image_embeds->dtype());  // no rounding before the fp32 add
          be_.gather_rows(*s.image_embeds, image_idx, img);
          Tensor rows = h.rows(off, off + T);
          be_.add(rows, img, rows);
        }
      }
      off += T;
    }
  }

  for (int l = 0; l < cfg_.layers; ++l) {
    const DecoderLayerWeights& lw = w_.layers[l];
    prefill_attention_block(h, lw, cache, l, positions, lengths, slots);
    ffn_block(h, lw, routing_on_device);
  }

  std::vector<int32_t> last(B);
  int64_t end = 0;
  for (int64_t b = 0; b < B; ++b) last[b] = static_cast<int32_t>((end += lengths[b]) - 1);
  Tensor last_rows = be_.empty({B, cfg_.hidden}, be_.residual_dtype());
  be_.gather_rows(h, last, last_rows);
  Tensor normed = be_.empty(last_rows.shape(), be_.act_dtype());
  be_.rms_norm(last_rows, w_.norm.w, cfg_.rms_eps, normed);
  Tensor logits = be_.empty({B, cfg_.vocab}, DType::kF32);  // fp32 straight from the product, like forward()
  be_.linear(normed, w_.lm_head, nullptr, logits);
  Tensor host = be_.download_f32(logits);
  return std::vector<float>(host.data<float>(), host.data<float>() + host.numel());
}

}  // namespace folio
