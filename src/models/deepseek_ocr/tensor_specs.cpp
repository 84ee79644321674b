#include "models/deepseek_ocr/tensor_specs.h"

#include "core/error.h"

namespace folio {

std::vector<TensorSpec> deepseek_ocr_tensor_specs(const DeepseekOcrConfig& c) {
  std::vector<TensorSpec> s;
  auto lin = [&](const std::string& n, int64_t out, int64_t in, bool bias) {
    s.push_back({n + ".weight", {out, in}, TensorInit::kLinear});
    if (bias) s.push_back({n + ".bias", {out}, TensorInit::kZeros});
  };
  auto norm = [&](const std::string& n, int64_t d, bool bias) {
    s.push_back({n + ".weight", {d}, TensorInit::kOnes});
    if (bias) s.push_back({n + ".bias", {d}, TensorInit::kZeros});
  };
  auto swiglu = [&](const std::string& n, int64_t ffn, int64_t hidden) {
    lin(n + ".gate_proj", ffn, hidden, false);
    lin(n + ".up_proj", ffn, hidden, false);
    lin(n + ".down_proj", hidden, ffn, false);
  };
  const SamConfig& sam = c.sam;
  const std::string sp = "model.sam_model.";
  const int64_t sam_head = sam.width / sam.heads;
  s.push_back({sp + "patch_embed.proj.weight", {sam.width, 3, sam.patch, sam.patch}, TensorInit::kLinear});
  s.push_back({sp + "patch_embed.proj.bias", {sam.width}, TensorInit::kZeros});
  s.push_back({sp + "pos_embed", {1, sam.pos_grid, sam.pos_grid, sam.width}, TensorInit::kEmbedding});
  for (int i = 0; i < sam.layers; ++i) {
    const std::string p = sp + "blocks." + std::to_string(i) + ".";
    bool global = false;
    for (int g : sam.global_blocks) global = global || g == i;
    norm(p + "norm1", sam.width, true);
    lin(p + "attn.qkv", 3 * sam.width, sam.width, true);
    lin(p + "attn.proj", sam.width, sam.width, true);
    const int64_t rel = global ? 2 * sam.pos_grid - 1 : 2 * sam.window - 1;
    s.push_back({p + "attn.rel_pos_h", {rel, sam_head}, TensorInit::kEmbedding});
    s.push_back({p + "attn.rel_pos_w", {rel, sam_head}, TensorInit::kEmbedding});
    norm(p + "norm2", sam.width, true);
    lin(p + "mlp.lin1", sam.mlp, sam.width, true);
    lin(p + "mlp.lin2", sam.width, sam.mlp, true);
  }
  s.push_back({sp + "neck.0.weight", {sam.neck, sam.width, 1, 1}, TensorInit::kLinear});
  norm(sp + "neck.1", sam.neck, true);
  s.push_back({sp + "neck.2.weight", {sam.neck, sam.neck, 3, 3}, TensorInit::kLinear});
  norm(sp + "neck.3", sam.neck, true);
  s.push_back({sp + "net_2.weight", {sam.down1, sam.neck, 3, 3}, TensorInit::kLinear});
  s.push_back({sp + "net_3.weight", {sam.down2, sam.down1, 3, 3}, TensorInit::kLinear});

  const ClipConfig& clip = c.clip;
  const std::string cp = "model.vision_model.";
  s.push_back({cp + "embeddings.class_embedding", {clip.width}, TensorInit::kEmbedding});
  // Present in the official checkpoint although inference never uses it (SAM replaces it).
  s.push_back({cp + "embeddings.patch_embedding.weight", {clip.width, 3, 14, 14}, TensorInit::kLinear});
  s.push_back({cp + "embeddings.position_embedding.weight", {int64_t(clip.pos_grid) * clip.pos_grid + 1, clip.width},
               TensorInit::kEmbedding});
  norm(cp + "pre_layrnorm", clip.width, true);
  for (int l = 0; l < clip.layers; ++l) {
    const std::string p = cp + "transformer.layers." + std::to_string(l) + ".";
    norm(p + "layer_norm1", clip.width, true);
    lin(p + "self_attn.qkv_proj", 3 * clip.width, clip.width, true);
    lin(p + "self_attn.out_proj", clip.width, clip.width, true);
    norm(p + "layer_norm2", clip.width, true);
    lin(p + "mlp.fc1", clip.ffn, clip.width, true);
    lin(p + "mlp.fc2", clip.width, clip.ffn, true);
  }
  lin("model.projector.layers", c.projector_out, c.projector_in, true);
  s.push_back({"model.image_newline", {c.projector_out}, TensorInit::kEmbedding});
  s.push_back({"model.view_seperator", {c.projector_out}, TensorInit::kEmbedding});

  const DecoderConfig& d = c.lm;
  s.push_back({"model.embed_tokens.weight", {d.vocab, d.hidden}, TensorInit::kEmbedding});
  for (int l = 0; l < d.layers; ++l) {
    const std::string p = "model.layers." + std::to_string(l) + ".";
    norm(p + "input_layernorm", d.hidden, false);
    norm(p + "post_attention_layernorm", d.hidden, false);
    for (const char* m : {"q_proj", "k_proj", "v_proj", "o_proj"})
      lin(p + "self_attn." + m, int64_t(d.heads) * d.head_dim, d.hidden, false);
    if (d.is_moe_layer(l)) {
      lin(p + "mlp.gate", d.experts, d.hidden, false);
      for (int e = 0; e < d.experts; ++e) swiglu(p + "mlp.experts." + std::to_string(e), d.expert_ffn, d.hidden);
      if (d.shared_experts > 0) swiglu(p + "mlp.shared_experts", int64_t(d.expert_ffn) * d.shared_experts, d.hidden);
    } else {
      swiglu(p + "mlp", d.dense_ffn, d.hidden);
    }
  }
  norm("model.norm", d.hidden, false);
  lin("lm_head", d.vocab, d.hidden, false);
  return s;
}

DeepseekOcrConfig deepseek_ocr_preset(const std::string& name) {
  DeepseekOcrConfig c;  // defaults are the published model
  if (name == "full") return c;
  if (name == "tiny") {
    c.sam = SamConfig{64, 4, 2, {1, 3}, 256, 32, 48, 64, 16, 14, 64, 1e-6f};
    c.clip = ClipConfig{64, 2, 4, 256, 16, 1e-5f};
    c.projector_in = 128;
    c.projector_out = 64;
    DecoderConfig& d = c.lm;
    d.hidden = 64;
    d.layers = 3;
    d.heads = d.kv_heads = 2;
    d.head_dim = 32;
    d.dense_ffn = 160;
    d.expert_ffn = 48;
    d.experts = 8;
    d.top_k = 3;
    d.shared_experts = 2;
    return c;
  }
  throw invalid_input("unknown model size preset '" + name + "' (expected full or tiny)");
}

}  // namespace folio
