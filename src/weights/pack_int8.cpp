#include "weights/pack_int8.h"

#include "core/error.h"
#include "core/packed_int8.h"
#include "core/parallel.h"

namespace folio {

using namespace packed_int8;

bool can_pack_rows_int8(const Tensor& w) { return w.ndim() == 2 && w.dim(0) > 0 && w.dim(0) % kGroupRows == 0; }

Tensor pack_rows_int8(const Tensor& w) {
  if (!can_pack_rows_int8(w))
    throw internal_error("pack_rows_int8: expected a matrix with a multiple of 16 rows, got " + shape_str(w.shape()));
  const int64_t N = w.dim(0), K = w.dim(1), Kp = padded_k(K);
  Tensor out = Tensor::empty({N, Kp + kRowExtra}, DType::kI8Packed);
  parallel_for(N / kGroupRows, 1, [&](int64_t g0, int64_t g1) {
    for (int64_t g = g0; g < g1; ++g) {
      // One group's rows as f32 (the stored dtype may be bf16/f16), then the shared packer.
      const std::vector<float> rows = w.rows(g * kGroupRows, (g + 1) * kGroupRows).to_vector_f32();
      pack_rows(rows.data(), kGroupRows, K, K, out.data<int8_t>() + g * group_bytes(Kp));
    }
  });
  return out;
}

}  // namespace folio
