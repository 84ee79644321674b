#include "models/deepseek_ocr/stage.h"

namespace folio {

Qkv project_qkv(Backend& be, const Tensor& x, const LinearWeights& qkv) {
  const int64_t d = qkv.w.dim(0) / 3;
  Qkv out;
  Tensor* parts[3] = {&out.q, &out.k, &out.v};
  for (int i = 0; i < 3; ++i) {
    Tensor w = qkv.w.rows(i * d, (i + 1) * d);
    Tensor b = qkv.b.rows(i * d, (i + 1) * d);
    *parts[i] = linear_new(be, x, w, &b, be.vision_dtype());
  }
  return out;
}

}  // namespace folio
