// DeepSeek-OCR weights under their official checkpoint names, grouped per stage. Immutable
// after loading; tensors live on the backend's device (on the CPU they point into the
// memory-mapped checkpoint). Convolution kernels are viewed as [out, in*kh*kw] matrices so
// a convolution is im2col + linear.
#pragma once
#include <vector>

#include "backend/backend.h"
#include "models/deepseek_ocr/config.h"

namespace folio {

struct LinearWeights {
  Tensor w, b;  // b may be undefined
  const Tensor* bias() const { return b.defined() ? &b : nullptr; }
};

struct NormWeights {
  Tensor w, b;  // b undefined for RMSNorm
};

struct SamBlockWeights {
  NormWeights norm1, norm2;
  LinearWeights qkv, proj, lin1, lin2;
  Tensor rel_pos_h, rel_pos_w;  // [27 or 2*64-1, head_dim]
  bool global = false;
};

struct SamWeights {
  LinearWeights patch_embed;  // [width, 3*16*16]
  Tensor pos_embed;           // [1, 64, 64, width] (host; resized per grid)
  std::vector<SamBlockWeights> blocks;
  Tensor neck0, neck2;        // [neck, width], [neck, neck*9]
  NormWeights neck1, neck3;
  Tensor net2, net3;          // [down1, neck*9], [down2, down1*9]
  bool int8 = false;          // matrices packed to int8 (WeightOptions::int8_encoder): attention in int8 too
};

struct ClipLayerWeights {
  NormWeights ln1, ln2;
  LinearWeights qkv, out, fc1, fc2;
};

struct ClipWeights {
  Tensor class_embedding;     // [width]
  Tensor position_embedding;  // [g*g+1, width] (host; resized per grid)
  NormWeights pre_norm;
  std::vector<ClipLayerWeights> layers;
  bool int8 = false;          // as SamWeights::int8
};

struct DecoderLayerWeights {
  NormWeights input_norm, post_norm;
  Tensor q, k, v, o;
  bool moe = false;
  Tensor gate, up, down;        // dense FFN
  Tensor router;                // [experts, hidden]
  std::vector<ExpertWeights> experts;
  ExpertWeights shared;         // gate undefined when there are no shared experts
};

struct DecoderWeights {
  Tensor embed_tokens;  // [vocab, hidden]
  std::vector<DecoderLayerWeights> layers;
  NormWeights norm;
  Tensor lm_head;       // [vocab, hidden]
};

struct WeightOptions {
  // Decoder matrices (attention, dense and expert MLPs, lm_head) quantised to int8 per output
  // row at load (weights/quantize.h): half the bytes per decoded token. CPU backend only.
  bool int8_decoder = false;
  // Vision-encoder matrices (SAM, CLIP, projector linears and the convolutions run as
  // products) quantised to int8 per output row and packed for the CPU's int8 product
  // (weights/pack_int8.h): about 4x the fp32 arithmetic rate, compute-bound there. Honoured
  // only where the backend says the int8 product is fast (fast_int8_linear); elsewhere the
  // encoder keeps its stored weights and DeepseekOcrWeights::encoder_int8() says so.
  bool int8_encoder = false;
};

struct DeepseekOcrWeights {
  SamWeights sam;
  ClipWeights clip;
  LinearWeights projector;
  Tensor image_newline, view_separator;  // [hidden]
  DecoderWeights lm;
  // Whether the vision encoder's matrices were packed to int8 (SAM and CLIP carry the flag).
  bool encoder_int8() const { return sam.int8; }

  // Binds every tensor by name with its expected shape; throws naming the tensor and file.
  // Tensors go through backend.to_device (a no-op on the CPU).
  static DeepseekOcrWeights load(Checkpoint& ck, const DeepseekOcrConfig& cfg, Backend& backend,
                                 const WeightOptions& options = {});
};

}  // namespace folio
