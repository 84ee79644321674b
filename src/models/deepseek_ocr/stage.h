// Shared pieces of the DeepSeek-OCR stage files: the trace hook that names intermediate
// tensors like the conformance data (sam_global, clip_global, image_embeds, lm_layer0 ...),
// and small helpers over the backend.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "models/deepseek_ocr/weights.h"

namespace folio {

// Called with a stage name and the device tensor at that point; may be empty.
using Trace = std::function<void(const std::string& name, const Tensor& value)>;

inline void trace(const Trace& t, const std::string& name, const Tensor& v) {
  if (t) t(name, v);
}

// Called by each MoE layer of a prefill after its router chose: the layer index, the
// normalised rows the router read (xn, backend tensor), the router weight [E, hidden], and
// the chosen experts' ids and weights [T, k] on the host, which the hook may change before the
// experts run. Conformance reads the fp32 reference's probabilities through it, and hands a
// bf16 device the reference's choice at near-tied rows (cli/routing_check.h).
using RouteHook = std::function<void(int layer, const Tensor& xn, const Tensor& router, std::vector<int32_t>& ids,
                                     std::vector<float>& weights)>;

// The vision encoder's helpers below produce Backend::vision_dtype() tensors.
inline Tensor vision_linear(Backend& be, const Tensor& x, const LinearWeights& l) {
  return linear_new(be, x, l.w, l.bias(), be.vision_dtype());
}

// The q, k and v parts of a fused [3*D, D] projection are row ranges of its weight and bias;
// running them as three products (Backend::linear_many, one input) avoids strided views of
// one fused output.
struct Qkv {
  Tensor q, k, v;
};
Qkv project_qkv(Backend& be, const Tensor& x, const LinearWeights& qkv);  // vision dtype

// x as a residual-stream tensor (Backend::residual_dtype()): x itself when it already is one,
// else an fp32 copy (the residual dtype is F32 whenever it differs from the activations').
inline Tensor to_residual(Backend& be, const Tensor& x) {
  if (x.dtype() == be.residual_dtype()) return x;
  Tensor r = be.empty(x.shape(), be.residual_dtype());
  be.cast_f32(x, r);
  return r;
}

inline Tensor vision_layer_norm(Backend& be, const Tensor& x, const NormWeights& n, float eps) {
  Tensor y = be.empty(x.shape(), be.vision_dtype());
  be.layer_norm(x, n.w, n.b, eps, y);
  return y;
}

}  // namespace folio
