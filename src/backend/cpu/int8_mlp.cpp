// The fused MLP of the int8 encoder (int8_linear.h): per block of rows, the first product
// (with its activation) writes a small f32 intermediate, which is quantised and fed to the
// second product while it is still in L2. Unfused, SAM's [4096, 3072] intermediate (50 MB)
// went to memory and came back each layer, and the first product spent a quarter of its time
// writing it.
#include <algorithm>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/int8_linear.h"
#include "core/error.h"
#include "core/packed_int8.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

using namespace packed_int8;

// Rows per block: a multiple of the kernel's 6-row tile, small enough that the f32
// intermediate (60 x 3072 x 4 = 720 KB at SAM's sizes) and both blocks of codes (45 KB +
// 180 KB) stay in a 2 MB L2 with the weight panels passing through. Measured on SAM's MLP
// (2 threads): 60 rows 52-58 ms, 64 rows 57-60, 96 rows 65-70, 128 rows 68-72; unfused 66-84.
constexpr int64_t kMlpRows = 60;

void check_packed(const Tensor& w, int64_t K, const char* which) {
  if (w.dtype() != DType::kI8Packed || w.ndim() != 2 || w.dim(1) != padded_k(K) + kRowExtra ||
      w.dim(0) % kGroupRows != 0)
    throw internal_error(std::string("mlp: ") + which + " " + shape_str(w.shape()) + " is not a packed int8 weight for K=" +
                         std::to_string(K));
}

}  // namespace

void mlp_packed_int8(const float* x, int64_t M, int64_t K, const Tensor& w1, const float* b1, Int8Then act,
                     const Tensor& w2, const float* b2, float* y) {
  const int64_t N1 = w1.dim(0), N2 = w2.dim(0);
  check_packed(w1, K, "first weight");
  check_packed(w2, N1, "second weight");
  if (!have_avx512_vnni()) throw internal_error("mlp_packed_int8 needs AVX512-VNNI");
  if (act != Int8Then::kGeluErf && act != Int8Then::kQuickGelu) throw internal_error("mlp: not an activation");
  const int64_t Kp1 = padded_k(K), Kp2 = padded_k(N1);
  const int64_t blocks = (M + kMlpRows - 1) / kMlpRows;
  parallel_for(blocks, 1, [&](int64_t i0, int64_t i1) {
    thread_local std::vector<uint8_t> codes1, codes2;
    thread_local std::vector<float> mid, scale1, scale2;
    thread_local std::vector<int32_t> zero1, zero2, scratch;
    codes1.resize(kMlpRows * Kp1);
    codes2.resize(kMlpRows * Kp2);
    mid.resize(kMlpRows * N1);
    scale1.resize(kMlpRows);
    scale2.resize(kMlpRows);
    zero1.resize(kMlpRows);
    zero2.resize(kMlpRows);
    scratch.resize(kMlpRows * 4 * kGroupRows);
    for (int64_t i = i0; i < i1; ++i) {
      const int64_t m0 = i * kMlpRows, rows = std::min(kMlpRows, M - m0);
      quantize_rows_u8_vnni(x + m0 * K, K, rows, K, Kp1, codes1.data(), scale1.data(), zero1.data());
      Int8Block first;
      first.a = codes1.data();
      first.a_scale = scale1.data();
      first.a_zero = zero1.data();
      first.rows = rows;
      first.Kp = Kp1;
      first.w = w1.data<int8_t>();
      first.groups = N1 / kGroupRows;
      first.bias = b1;
      first.y = mid.data();
      first.ldy = N1;
      first.scratch = scratch.data();
      first.then = act;
      first.y_in_memory = false;
      int8_block_vnni(first);
      quantize_rows_u8_vnni(mid.data(), N1, rows, N1, Kp2, codes2.data(), scale2.data(), zero2.data());
      Int8Block second = first;
      second.a = codes2.data();
      second.a_scale = scale2.data();
      second.a_zero = zero2.data();
      second.Kp = Kp2;
      second.w = w2.data<int8_t>();
      second.groups = N2 / kGroupRows;
      second.bias = b2;
      second.y = y + m0 * N2;
      second.ldy = N2;
      second.then = Int8Then::kAddTo;
      int8_block_vnni(second);
    }
  });
}

}  // namespace folio::cpu
