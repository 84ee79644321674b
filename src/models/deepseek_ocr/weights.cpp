#include "models/deepseek_ocr/weights.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/bf16.h"
#include "core/error.h"
#include "weights/checkpoint.h"
#include "weights/pack_int8.h"
#include "weights/quantize.h"

namespace folio {

namespace {

// Fetches tensors from the checkpoint under a name prefix and moves them to the device.
class Binder {
 public:
  Binder(Checkpoint& ck, Backend& be) : ck_(ck), be_(be) {}

  // A decoder matrix: int8 rows when asked (see WeightOptions), else as stored.
  Tensor matrix(const std::string& name, const Shape& shape) {
    if (!int8) return get(name, shape);
    return be_.to_device(quantize_rows_int8(ck_.get(name, shape)));
  }
  bool int8 = false;

  // A vision-encoder matrix: packed int8 when asked (see WeightOptions) and its row count
  // fits the packed layout (a multiple of 16; every full-size matrix does), else in the
  // backend's vision dtype where that is a 16-bit type (f16 on CUDA: the products then read
  // it directly), else as stored.
  Tensor encoder_matrix(const Tensor& w, const std::string& name) {
    if (pack_encoder && can_pack_rows_int8(w)) return be_.to_device(pack_rows_int8(w));
    return be_.to_device(in_vision_dtype(w, name));
  }
  bool pack_encoder = false;
  // Vision biases follow their matrices into the 16-bit vision dtype, so that the products'
  // epilogues add them (the residual adds convert them to f32 per call, as before).
  Tensor encoder_bias(const std::string& name, int64_t n) {
    return be_.to_device(pack_encoder ? ck_.get(name, {n}) : in_vision_dtype(ck_.get(name, {n}), name));
  }

  Tensor get(const std::string& name, const Shape& shape) { return be_.to_device(ck_.get(name, shape)); }
  // A convolution kernel [out, in, k, k] viewed as a matrix [out, in*k*k].
  Tensor conv(const std::string& name, int64_t out, int64_t in, int64_t k) {
    return encoder_matrix(ck_.get(name, {out, in, k, k}).reshape({out, in * k * k}), name);
  }
  Tensor host(const std::string& name, const Shape& shape) { return ck_.get(name, shape); }
  LinearWeights linear(const std::string& name, int64_t out, int64_t in, bool bias) {
    LinearWeights l;
    l.w = encoder_matrix(ck_.get(name + ".weight", {out, in}), name + ".weight");
    if (bias) l.b = encoder_bias(name + ".bias", out);
    return l;
  }
  NormWeights norm(const std::string& name, int64_t d, bool bias) {
    NormWeights n;
    n.w = get(name + ".weight", {d});
    if (bias) n.b = get(name + ".bias", {d});
    return n;
  }
  ExpertWeights swiglu(const std::string& name, int64_t ffn, int64_t hidden) {
    return {matrix(name + ".gate_proj.weight", {ffn, hidden}), matrix(name + ".up_proj.weight", {ffn, hidden}),
            matrix(name + ".down_proj.weight", {hidden, ffn})};
  }

 private:
  Checkpoint& ck_;
  Backend& be_;

  Tensor in_vision_dtype(const Tensor& w, const std::string& name) {
    const DType vt = be_.vision_dtype();
    if (!is_16bit_float(vt) || w.dtype() == vt) return w;
    Tensor c = w.to_16bit(vt);
    if (vt == DType::kF16) {
      // f16 tops out at 65504: a weight beyond it would become inf. Refuse rather than compute
      // garbage (no published checkpoint comes near; FOLIO_CUDA_VISION=bf16 runs it anyway).
      const uint16_t* h = c.data<uint16_t>();
      for (int64_t i = 0; i < c.numel(); ++i) {
        if ((h[i] & 0x7c00u) != 0x7c00u) continue;  // finite in f16
        const float src = w.dtype() == DType::kF32 ? w.data<float>()[i] : bf16_to_f32(w.data<uint16_t>()[i]);
        if (std::isfinite(src))
          throw invalid_input(name + " holds " + std::to_string(src) + " at element " + std::to_string(i) +
                              ", outside the f16 range of the CUDA vision encoder (FOLIO_CUDA_VISION=bf16 runs it in bf16)");
      }
    }
    return c;
  }
};

}  // namespace

DeepseekOcrWeights DeepseekOcrWeights::load(Checkpoint& ck, const DeepseekOcrConfig& cfg, Backend& backend,
                                             const WeightOptions& options) {
  if (options.int8_decoder && backend.device() != Device::kCPU)
    throw invalid_input("int8 decoder weights are implemented for the CPU backend only");
  Binder b(ck, backend);
  DeepseekOcrWeights w;
  // Without a fast int8 product (no AVX512-VNNI, or not the CPU) packed weights would be
  // slower than fp32: keep the stored ones and report it through encoder_int8().
  b.pack_encoder = options.int8_encoder && backend.fast_int8_linear();
  w.sam.int8 = w.clip.int8 = b.pack_encoder;

  const SamConfig& s = cfg.sam;
  const std::string sp = "model.sam_model.";
  const int64_t sam_head = s.width / s.heads;
  w.sam.patch_embed.w = b.conv(sp + "patch_embed.proj.weight", s.width, 3, s.patch);
  w.sam.patch_embed.b = b.encoder_bias(sp + "patch_embed.proj.bias", s.width);
  w.sam.pos_embed = b.host(sp + "pos_embed", {1, s.pos_grid, s.pos_grid, s.width});
  for (int i = 0; i < s.layers; ++i) {
    const std::string p = sp + "blocks." + std::to_string(i) + ".";
    SamBlockWeights blk;
    blk.global = std::find(s.global_blocks.begin(), s.global_blocks.end(), i) != s.global_blocks.end();
    blk.norm1 = b.norm(p + "norm1", s.width, true);
    blk.norm2 = b.norm(p + "norm2", s.width, true);
    blk.qkv = b.linear(p + "attn.qkv", 3 * s.width, s.width, true);
    blk.proj = b.linear(p + "attn.proj", s.width, s.width, true);
    const int64_t rel_len = blk.global ? 2 * s.pos_grid - 1 : 2 * s.window - 1;
    blk.rel_pos_h = b.host(p + "attn.rel_pos_h", {rel_len, sam_head});
    blk.rel_pos_w = b.host(p + "attn.rel_pos_w", {rel_len, sam_head});
    blk.lin1 = b.linear(p + "mlp.lin1", s.mlp, s.width, true);
    blk.lin2 = b.linear(p + "mlp.lin2", s.width, s.mlp, true);
    w.sam.blocks.push_back(std::move(blk));
  }
  w.sam.neck0 = b.conv(sp + "neck.0.weight", s.neck, s.width, 1);
  w.sam.neck1 = b.norm(sp + "neck.1", s.neck, true);
  w.sam.neck2 = b.conv(sp + "neck.2.weight", s.neck, s.neck, 3);
  w.sam.neck3 = b.norm(sp + "neck.3", s.neck, true);
  w.sam.net2 = b.conv(sp + "net_2.weight", s.down1, s.neck, 3);
  w.sam.net3 = b.conv(sp + "net_3.weight", s.down2, s.down1, 3);

  const ClipConfig& c = cfg.clip;
  const std::string cp = "model.vision_model.";
  w.clip.class_embedding = b.host(cp + "embeddings.class_embedding", {c.width});
  w.clip.position_embedding =
      b.host(cp + "embeddings.position_embedding.weight", {int64_t(c.pos_grid) * c.pos_grid + 1, c.width});
  w.clip.pre_norm = b.norm(cp + "pre_layrnorm", c.width, true);
  for (int l = 0; l < c.layers; ++l) {
    const std::string p = cp + "transformer.layers." + std::to_string(l) + ".";
    ClipLayerWeights lw;
    lw.ln1 = b.norm(p + "layer_norm1", c.width, true);
    lw.ln2 = b.norm(p + "layer_norm2", c.width, true);
    lw.qkv = b.linear(p + "self_attn.qkv_proj", 3 * c.width, c.width, true);
    lw.out = b.linear(p + "self_attn.out_proj", c.width, c.width, true);
    lw.fc1 = b.linear(p + "mlp.fc1", c.ffn, c.width, true);
    lw.fc2 = b.linear(p + "mlp.fc2", c.width, c.ffn, true);
    w.clip.layers.push_back(std::move(lw));
  }

  w.projector = b.linear("model.projector.layers", cfg.projector_out, cfg.projector_in, true);
  b.pack_encoder = false;  // the decoder below has its own option
  w.image_newline = b.host("model.image_newline", {cfg.projector_out});
  w.view_separator = b.host("model.view_seperator", {cfg.projector_out});  // sic: the checkpoint's spelling

  const DecoderConfig& d = cfg.lm;
  b.int8 = options.int8_decoder;  // the vision encoder above stays in its stored dtype
  w.lm.embed_tokens = b.get("model.embed_tokens.weight", {d.vocab, d.hidden});
  for (int l = 0; l < d.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    DecoderLayerWeights lw;
    lw.input_norm = b.norm(p + "input_layernorm", d.hidden, false);
    lw.post_norm = b.norm(p + "post_attention_layernorm", d.hidden, false);
    const int64_t qdim = int64_t(d.heads) * d.head_dim;
    lw.q = b.matrix(p + "self_attn.q_proj.weight", {qdim, d.hidden});
    lw.k = b.matrix(p + "self_attn.k_proj.weight", {qdim, d.hidden});
    lw.v = b.matrix(p + "self_attn.v_proj.weight", {qdim, d.hidden});
    lw.o = b.matrix(p + "self_attn.o_proj.weight", {d.hidden, qdim});
    lw.moe = d.is_moe_layer(l);
    if (lw.moe) {
      lw.router = b.get(p + "mlp.gate.weight", {d.experts, d.hidden});
      for (int e = 0; e < d.experts; ++e)
        lw.experts.push_back(b.swiglu(p + "mlp.experts." + std::to_string(e), d.expert_ffn, d.hidden));
      if (d.shared_experts > 0) lw.shared = b.swiglu(p + "mlp.shared_experts", int64_t(d.expert_ffn) * d.shared_experts, d.hidden);
    } else {
      ExpertWeights dense = b.swiglu(p + "mlp", d.dense_ffn, d.hidden);
      lw.gate = dense.gate;
      lw.up = dense.up;
      lw.down = dense.down;
    }
    w.lm.layers.push_back(std::move(lw));
  }
  w.lm.norm = b.norm("model.norm", d.hidden, false);
  w.lm.lm_head = b.matrix("lm_head.weight", {d.vocab, d.hidden});
  return w;
}

}  // namespace folio
