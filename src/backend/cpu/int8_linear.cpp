// Driver of the int8 product: splits y into row x column tasks for the worker pool,
// quantises the activation rows and runs a kernel (int8_kernels.h) on each block.
#include "backend/cpu/int8_linear.h"

#include <algorithm>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "core/error.h"
#include "core/packed_int8.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

using namespace packed_int8;

// Rows quantised and multiplied together: their codes (rows x Kp bytes, <= 1.2 MB at the
// encoder's largest K of 4608) stay in L2 while every weight panel passes over them.
constexpr int64_t kRowBlock = 256;
// Fewest rows per task when the rows alone are split: fewer would re-read the whole weight
// from memory too often for the work it feeds.
constexpr int64_t kMinTaskRows = 64;
// Up to this many rows, tasks split the columns only and each covers all rows in one block
// (their codes, shared, are at most kFewRows x 512 bytes per k block of the kernel).
constexpr int64_t kFewRows = 2 * kRowBlock;

struct Quantised {
  std::vector<uint8_t> codes;
  std::vector<float> scale;
  std::vector<int32_t> zero;
  void resize(int64_t rows, int64_t Kp) {
    codes.resize(static_cast<size_t>(rows * Kp));
    scale.resize(rows);
    zero.resize(rows);
  }
};

}  // namespace

bool have_avx512_vnni() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                          __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512vnni");
  return yes;
}

void linear_packed_int8(const float* x, int64_t M, int64_t K, const Tensor& w, const float* bias, float* y,
                        Int8Kernel kernel, Int8Then then) {
  linear_packed_int8_many(x, M, K, {Int8Product{&w, bias, y}}, kernel, then);
}

void linear_packed_int8_many(const float* x, int64_t M, int64_t K, const std::vector<Int8Product>& products,
                             Int8Kernel kernel, Int8Then then) {
  const int64_t Kp = padded_k(K);
  // The products side by side, as the 16-column groups [first_group[i], first_group[i + 1]) of
  // one wide product.
  std::vector<int64_t> first_group{0};
  for (const Int8Product& p : products) {
    const Tensor& w = *p.w;
    const int64_t N = w.dim(0);
    if (w.dtype() != DType::kI8Packed || w.ndim() != 2 || w.dim(1) != Kp + kRowExtra || N % kGroupRows != 0)
      throw internal_error("linear: x has K=" + std::to_string(K) + " but the packed int8 weight is " + shape_str(w.shape()));
    first_group.push_back(first_group.back() + N / kGroupRows);
  }
  if (M == 0 || products.empty()) return;
  const bool vnni = kernel == Int8Kernel::kAuto && have_avx512_vnni();
  auto quantise = vnni ? quantize_rows_u8_vnni : quantize_rows_u8_portable;
  auto block = vnni ? int8_block_vnni : int8_block_portable;
  const int64_t groups = first_group.back();

  // Tasks: threads*4 of them (so a thread slowed by a neighbour on a shared machine hands
  // work to the others). Many rows (SAM: 4096+): split the rows only, each row is quantised
  // once inside its task. Few rows (CLIP: 257, up to kFewRows) and enough columns: split the
  // columns only, and quantise all rows up front, shared by the tasks: each weight panel is
  // then read from memory once and used by every row tile while it is in L1. Split by rows as
  // well, CLIP's panels were fetched 4 times and fed 11 tiles each (10% slower per product).
  const int64_t want = static_cast<int64_t>(num_threads()) * 4;
  const int64_t panels = (groups + 3) / 4;  // the kernel's 64-column panels
  const int64_t row_tasks = M <= kFewRows && panels >= want ? 1 : std::clamp<int64_t>(M / kMinTaskRows, 1, want);
  const int64_t col_tasks = std::clamp<int64_t>(want / row_tasks, 1, panels);
  const int64_t rows_per_task = (M + row_tasks - 1) / row_tasks;
  const int64_t groups_per_task = (groups + col_tasks - 1) / col_tasks;

  Quantised shared;
  if (col_tasks > 1) {
    shared.resize(M, Kp);
    parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
      quantise(x + r0 * K, K, r1 - r0, K, Kp, shared.codes.data() + r0 * Kp, shared.scale.data() + r0, shared.zero.data() + r0);
    });
  }

  parallel_for(row_tasks * col_tasks, 1, [&](int64_t t0, int64_t t1) {
    thread_local Quantised own;
    thread_local std::vector<int32_t> scratch;
    const int64_t row_block = row_tasks == 1 && col_tasks > 1 ? M : kRowBlock;
    scratch.resize(row_block * 4 * kGroupRows);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t m_begin = (t / col_tasks) * rows_per_task, m_end = std::min(M, m_begin + rows_per_task);
      const int64_t g_begin = (t % col_tasks) * groups_per_task, g_end = std::min(groups, g_begin + groups_per_task);
      if (m_begin >= m_end || g_begin >= g_end) continue;
      for (int64_t m0 = m_begin; m0 < m_end; m0 += row_block) {
        const int64_t rows = std::min(row_block, m_end - m0);
        Int8Block b;
        if (col_tasks > 1) {
          b.a = shared.codes.data() + m0 * Kp;
          b.a_scale = shared.scale.data() + m0;
          b.a_zero = shared.zero.data() + m0;
        } else {
          own.resize(rows, Kp);
          quantise(x + m0 * K, K, rows, K, Kp, own.codes.data(), own.scale.data(), own.zero.data());
          b.a = own.codes.data();
          b.a_scale = own.scale.data();
          b.a_zero = own.zero.data();
        }
        b.rows = rows;
        b.Kp = Kp;
        b.scratch = scratch.data();
        b.then = then;
        // The task's groups, product by product.
        for (size_t i = 0; i < products.size(); ++i) {
          const int64_t lo = std::max(g_begin, first_group[i]) - first_group[i];
          const int64_t hi = std::min(g_end, first_group[i + 1]) - first_group[i];
          if (lo >= hi) continue;
          const Int8Product& p = products[i];
          const int64_t N = p.w->dim(0);
          b.w = p.w->data<int8_t>() + lo * group_bytes(Kp);
          b.groups = hi - lo;
          b.bias = p.bias ? p.bias + lo * kGroupRows : nullptr;
          b.y = p.y + m0 * N + lo * kGroupRows;
          b.ldy = N;
          block(b);
        }
      }
    }
  });
}

}  // namespace folio::cpu
