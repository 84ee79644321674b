#include "models/deepseek_ocr/config.h"

#include "core/error.h"
#include "weights/checkpoint.h"

namespace folio {

using nlohmann::json;

namespace {

// The hub code reads the language keys at the top level (DeepseekOCRConfig subclasses
// DeepseekV2Config); vLLM reads language_config. Accept either, top level first.
const json* find_key(const json& cfg, const std::string& key) {
  if (cfg.contains(key) && !cfg[key].is_null()) return &cfg[key];
  if (cfg.contains("language_config") && cfg["language_config"].contains(key) && !cfg["language_config"][key].is_null())
    return &cfg["language_config"][key];
  return nullptr;
}

template <class T>
T required(const json& cfg, const std::string& key, const std::string& file) {
  const json* v = find_key(cfg, key);
  if (!v) throw invalid_input(file + ": required field '" + key + "' is missing");
  try {
    return v->get<T>();
  } catch (const json::exception&) {
    throw invalid_input(file + ": field '" + key + "' has the wrong type (" + v->dump() + ")");
  }
}

template <class T>
T optional(const json& cfg, const std::string& key, T fallback, const std::string& file) {
  const json* v = find_key(cfg, key);
  if (!v) return fallback;
  try {
    return v->get<T>();
  } catch (const json::exception&) {
    throw invalid_input(file + ": field '" + key + "' has the wrong type (" + v->dump() + ")");
  }
}

const json& required_object(const json& parent, const std::string& key, const std::string& path, const std::string& file) {
  if (!parent.contains(key) || !parent[key].is_object())
    throw invalid_input(file + ": required field '" + path + "' is missing");
  return parent[key];
}

}  // namespace

DeepseekOcrConfig DeepseekOcrConfig::from_checkpoint(const Checkpoint& ck) {
  const json& cfg = ck.config();
  const std::string file = ck.config_path();
  DeepseekOcrConfig c;

  DecoderConfig& lm = c.lm;
  lm.vocab = required<int>(cfg, "vocab_size", file);
  lm.hidden = required<int>(cfg, "hidden_size", file);
  lm.layers = required<int>(cfg, "num_hidden_layers", file);
  lm.heads = required<int>(cfg, "num_attention_heads", file);
  lm.kv_heads = optional<int>(cfg, "num_key_value_heads", lm.heads, file);
  lm.dense_ffn = required<int>(cfg, "intermediate_size", file);
  lm.expert_ffn = required<int>(cfg, "moe_intermediate_size", file);
  lm.experts = required<int>(cfg, "n_routed_experts", file);
  lm.top_k = required<int>(cfg, "num_experts_per_tok", file);
  lm.shared_experts = optional<int>(cfg, "n_shared_experts", 0, file);
  lm.first_dense = optional<int>(cfg, "first_k_dense_replace", 0, file);
  lm.moe_every = optional<int>(cfg, "moe_layer_freq", 1, file);
  lm.rms_eps = optional<float>(cfg, "rms_norm_eps", 1e-6f, file);
  lm.rope_theta = optional<float>(cfg, "rope_theta", 10000.0f, file);
  lm.routed_scale = optional<float>(cfg, "routed_scaling_factor", 1.0f, file);
  lm.norm_topk = optional<bool>(cfg, "norm_topk_prob", false, file);
  lm.max_positions = optional<int>(cfg, "max_position_embeddings", 8192, file);
  lm.bos = optional<int>(cfg, "bos_token_id", 0, file);
  lm.eos = optional<int>(cfg, "eos_token_id", 1, file);
  if (optional<bool>(cfg, "use_mla", false, file))
    throw invalid_input(file + ": use_mla=true (multi-head latent attention) is not DeepSeek-OCR v1; not supported");
  const std::string scoring = optional<std::string>(cfg, "scoring_func", "softmax", file);
  if (scoring != "softmax") throw invalid_input(file + ": scoring_func '" + scoring + "' is not supported (softmax only)");
  if (lm.heads <= 0 || lm.hidden % lm.heads != 0)
    throw invalid_input(file + ": hidden_size " + std::to_string(lm.hidden) + " is not a multiple of num_attention_heads");
  lm.head_dim = lm.hidden / lm.heads;
  if (lm.kv_heads != lm.heads) throw invalid_input(file + ": grouped KV heads are not supported for DeepSeek-OCR v1");
  if (lm.moe_every <= 0 || lm.top_k <= 0 || lm.top_k > lm.experts)
    throw invalid_input(file + ": num_experts_per_tok/moe_layer_freq out of range");

  const json& vision = required_object(cfg, "vision_config", "vision_config", file);
  const json& widths = required_object(vision, "width", "vision_config.width", file);
  const json& sam = required_object(widths, "sam_vit_b", "vision_config.width.sam_vit_b", file);
  const json& clip = required_object(widths, "clip-l-14-224", "vision_config.width.clip-l-14-224", file);
  const std::string sp = "vision_config.width.sam_vit_b.";
  auto req_in = [&](const json& obj, const std::string& prefix, const std::string& key) {
    if (!obj.contains(key)) throw invalid_input(file + ": required field '" + prefix + key + "' is missing");
    return obj[key];
  };
  try {
    c.sam.width = req_in(sam, sp, "width").get<int>();
    c.sam.layers = req_in(sam, sp, "layers").get<int>();
    c.sam.heads = req_in(sam, sp, "heads").get<int>();
    c.sam.global_blocks = req_in(sam, sp, "global_attn_indexes").get<std::vector<int>>();
    const std::string cp = "vision_config.width.clip-l-14-224.";
    c.clip.width = req_in(clip, cp, "width").get<int>();
    c.clip.layers = req_in(clip, cp, "layers").get<int>();
    c.clip.heads = req_in(clip, cp, "heads").get<int>();
  } catch (const json::exception& e) {
    throw invalid_input(file + ": vision_config has a field of the wrong type (" + e.what() + ")");
  }
  if (cfg.contains("projector_config")) {
    c.projector_in = optional<int>(cfg["projector_config"], "input_dim", c.projector_in, file);
    c.projector_out = optional<int>(cfg["projector_config"], "n_embed", lm.hidden, file);
  }

  // Widths that only the tensors carry.
  c.sam.mlp = static_cast<int>(ck.shape_of("model.sam_model.blocks.0.mlp.lin1.weight").at(0));
  c.sam.neck = static_cast<int>(ck.shape_of("model.sam_model.neck.0.weight").at(0));
  c.sam.down1 = static_cast<int>(ck.shape_of("model.sam_model.net_2.weight").at(0));
  c.sam.down2 = static_cast<int>(ck.shape_of("model.sam_model.net_3.weight").at(0));
  c.sam.pos_grid = static_cast<int>(ck.shape_of("model.sam_model.pos_embed").at(1));
  c.clip.ffn = static_cast<int>(ck.shape_of("model.vision_model.transformer.layers.0.mlp.fc1.weight").at(0));
  const int64_t positions = ck.shape_of("model.vision_model.embeddings.position_embedding.weight").at(0);
  int g = 1;
  while ((g + 1) * (g + 1) + 1 <= positions) ++g;
  if (g * g + 1 != positions)
    throw invalid_input(ck.file_of("model.vision_model.embeddings.position_embedding.weight") +
                        ": CLIP position table has " + std::to_string(positions) + " rows, expected a square grid + 1");
  c.clip.pos_grid = g;
  if (c.sam.down2 != c.clip.width)
    throw invalid_input(ck.dir() + ": SAM output channels (" + std::to_string(c.sam.down2) + ") must equal the CLIP width (" +
                        std::to_string(c.clip.width) + ")");
  if (c.projector_in != c.clip.width + c.sam.down2)
    throw invalid_input(file + ": projector input_dim " + std::to_string(c.projector_in) + " != CLIP width + SAM channels");
  return c;
}

json DeepseekOcrConfig::to_json() const {
  json language = {
      {"vocab_size", lm.vocab}, {"hidden_size", lm.hidden}, {"intermediate_size", lm.dense_ffn},
      {"moe_intermediate_size", lm.expert_ffn}, {"num_hidden_layers", lm.layers}, {"num_attention_heads", lm.heads},
      {"num_key_value_heads", lm.kv_heads}, {"n_routed_experts", lm.experts}, {"num_experts_per_tok", lm.top_k},
      {"n_shared_experts", lm.shared_experts}, {"first_k_dense_replace", lm.first_dense}, {"topk_method", "greedy"},
      {"n_group", 1}, {"topk_group", 1}, {"use_mla", false}, {"kv_lora_rank", nullptr}, {"q_lora_rank", nullptr},
      {"qk_nope_head_dim", 0}, {"qk_rope_head_dim", 0}, {"v_head_dim", 0},
      {"max_position_embeddings", lm.max_positions}, {"bos_token_id", lm.bos}, {"eos_token_id", lm.eos},
      {"torch_dtype", "bfloat16"}, {"lm_head", true}, {"rm_head", false}, {"model_type", "deepseek_v2"}};
  json cfg = {
      {"architectures", {"DeepseekOCRForCausalLM"}},
      {"model_type", "deepseek_vl_v2"},
      {"candidate_resolutions", {{1024, 1024}}},
      {"global_view_pos", "head"},
      {"tile_tag", "2D"},
      {"torch_dtype", "bfloat16"},
      {"projector_config", {{"input_dim", projector_in}, {"n_embed", projector_out}, {"projector_type", "linear"},
                            {"model_type", "mlp_projector"}}},
      {"vision_config",
       {{"image_size", 1024}, {"model_name", "deeplip_b_l"}, {"model_type", "vision"},
        {"width",
         {{"clip-l-14-224", {{"heads", clip.heads}, {"image_size", 224}, {"layers", clip.layers}, {"patch_size", 14},
                             {"width", clip.width}}},
          {"sam_vit_b", {{"downsample_channels", {sam.down1, sam.down2}}, {"global_attn_indexes", sam.global_blocks},
                         {"heads", sam.heads}, {"layers", sam.layers}, {"width", sam.width}}}}}}},
      {"language_config", language}};
  for (auto it = language.begin(); it != language.end(); ++it)
    if (it.key() != "model_type" && it.key() != "torch_dtype") cfg[it.key()] = it.value();
  return cfg;
}

}  // namespace folio
