// DeepSeek-OCR (v1) hyper-parameters, read from the hub config.json and the tensor shapes.
// Fields the official code hard-codes (SAM patch 16, window 14, CLIP patch 14 ...) are
// constants here; everything that differs between the real and the tiny test model comes
// from the files. See shared/docs/models/deepseek-ocr.md §1.
#pragma once
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace folio {

class Checkpoint;

struct SamConfig {
  int width = 768, layers = 12, heads = 12;
  std::vector<int> global_blocks{2, 5, 8, 11};
  int mlp = 3072;        // from lin1 shape
  int neck = 256;        // from neck.0 shape
  int down1 = 512, down2 = 1024;  // net_2 / net_3 output channels
  int patch = 16, window = 14, pos_grid = 64;
  float eps = 1e-6f;
};

struct ClipConfig {
  int width = 1024, layers = 24, heads = 16;
  int ffn = 4096;        // from fc1 shape
  int pos_grid = 16;     // sqrt(positions - 1)
  float eps = 1e-5f;
};

struct DecoderConfig {
  int vocab = 129280, hidden = 1280, layers = 12, heads = 10, kv_heads = 10, head_dim = 128;
  int dense_ffn = 6848, expert_ffn = 896, experts = 64, top_k = 6, shared_experts = 2;
  int first_dense = 1, moe_every = 1;
  float rms_eps = 1e-6f, rope_theta = 10000.0f, routed_scale = 1.0f;
  bool norm_topk = false;
  int max_positions = 8192;
  int bos = 0, eos = 1;
  bool is_moe_layer(int l) const { return experts > 0 && l >= first_dense && (l % moe_every) == 0; }
};

struct DeepseekOcrConfig {
  SamConfig sam;
  ClipConfig clip;
  DecoderConfig lm;
  int projector_in = 2048, projector_out = 1280;
  int image_token = 128815;

  // Reads config.json (errors name the missing field and the file) and completes the
  // widths that only the tensor shapes carry.
  static DeepseekOcrConfig from_checkpoint(const Checkpoint& ck);
  nlohmann::json to_json() const;  // the hub layout, for `folio model random`
};

}  // namespace folio
