#include "models/deepseek_ocr/stage.h"

namespace folio {

Qkv project_qkv(Backend& be, const Tensor& x, const LinearWeights& qkv) {
  const int64_t d = qkv.w.dim(0) / 3;
  Shape shape = x.shape();
  shape.back() = d;
  Qkv out{be.empty(shape, be.vision_dtype()), be.empty(shape, be.vision_dtype()), be.empty(shape, be.vision_dtype())};
  const Tensor w[3] = {qkv.w.rows(0, d), qkv.w.rows(d, 2 * d), qkv.w.rows(2 * d, 3 * d)};
  const Tensor b[3] = {qkv.b.rows(0, d), qkv.b.rows(d, 2 * d), qkv.b.rows(2 * d, 3 * d)};
  be.linear_many(x, {&w[0], &w[1], &w[2]}, {&b[0], &b[1], &b[2]}, {&out.q, &out.k, &out.v});
  return out;
}

}  // namespace folio
