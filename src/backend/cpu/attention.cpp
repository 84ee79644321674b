// Attention on the CPU: for each (batch, head, block of queries) one sgemm for the logits,
// the relative-position terms added row by row from the two small tables (never an N x N
// bias tensor), an fp32 softmax, and one sgemm against V.
#include <algorithm>
#include <cmath>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/gemm.h"
#include "backend/cpu/vec_math.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

// In-place softmax over s[0, n). Reductions use 16 independent lanes so the compiler can
// vectorise them without reassociating float math on its own.
void softmax_row(float* s, int64_t n) {
  constexpr int L = 16;
  float mx[L];
  for (int l = 0; l < L; ++l) mx[l] = -INFINITY;
  int64_t j = 0;
  for (; j + L <= n; j += L)
    for (int l = 0; l < L; ++l) mx[l] = s[j + l] > mx[l] ? s[j + l] : mx[l];
  float m = -INFINITY;
  for (int l = 0; l < L; ++l) m = std::max(m, mx[l]);
  for (; j < n; ++j) m = std::max(m, s[j]);
  const __m256 mv = _mm256_set1_ps(m);
  map8(s, n, [mv](__m256 v) { return exp8(_mm256_sub_ps(v, mv)); }, [m](float v) { return fast_exp(v - m); });
  float acc[L] = {};
  j = 0;
  for (; j + L <= n; j += L)
    for (int l = 0; l < L; ++l) acc[l] += s[j + l];
  float sum = 0.0f;
  for (int l = 0; l < L; ++l) sum += acc[l];
  for (; j < n; ++j) sum += s[j];
  const float inv = 1.0f / sum;
  for (int64_t k = 0; k < n; ++k) s[k] *= inv;
}

}  // namespace

void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) {
  init_blas();
  const int64_t B = q.dim(0), Nq = q.dim(1), Nk = k.dim(1);
  const int H = spec.heads, D = spec.head_dim;
  const int64_t stride = static_cast<int64_t>(H) * D;
  if (q.dim(2) != stride || k.dim(2) != stride || v.dim(2) != stride || k.dim(0) != B || v.dim(1) != Nk)
    throw internal_error("attention: q " + shape_str(q.shape()) + " k " + shape_str(k.shape()) + " v " +
                         shape_str(v.shape()) + " do not fit heads=" + std::to_string(H) + " x " + std::to_string(D));
  const bool rel = spec.rel_pos_h.defined() && spec.rel_pos_h.numel() > 0;
  const int gh = spec.grid_h, gw = spec.grid_w;
  if (rel && (static_cast<int64_t>(gh) * gw != Nk || Nq != Nk || spec.rel_pos_h.dim(0) != 2 * gh - 1 ||
              spec.rel_pos_w.dim(0) != 2 * gw - 1 || spec.rel_pos_h.dim(1) != D))
    throw internal_error("attention: relative-position tables do not fit the grid");
  std::vector<float> rel_h_tab, rel_w_tab;
  if (rel) {
    rel_h_tab = spec.rel_pos_h.to_vector_f32();
    rel_w_tab = spec.rel_pos_w.to_vector_f32();
  }

  const float* Q = q.data<float>();
  const float* K = k.data<float>();
  const float* V = v.data<float>();
  float* O = out.data<float>();
  constexpr int64_t kQBlock = 256;  // logits block: 256 x Nk floats per thread
  const int64_t qblocks = (Nq + kQBlock - 1) / kQBlock;
  const int64_t offset = Nk - Nq;  // causal: query i is at absolute position i + offset

  // Buffers for the rows a block can have: sized for 256 rows, a decoding step's single query
  // cleared and freed 256 x Nk floats per head (84 MB of memset per token at 700 keys).
  const int64_t block_rows = std::min(kQBlock, Nq);
  parallel_for(B * H * qblocks, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> S(block_rows * Nk);
    std::vector<float> PH(rel ? block_rows * (2 * gh - 1) : 0), PW(rel ? block_rows * (2 * gw - 1) : 0);
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t b = t / (H * qblocks);
      const int h = static_cast<int>((t / qblocks) % H);
      const int64_t i0 = (t % qblocks) * kQBlock;
      const int64_t rows = std::min(kQBlock, Nq - i0);
      const float* qp = Q + (b * Nq + i0) * stride + h * D;
      const float* kp = K + b * Nk * stride + h * D;
      const float* vp = V + b * Nk * stride + h * D;
      // Visible keys for the last row of the block bound the product for causal blocks.
      const int64_t kmax = spec.causal ? std::min(Nk, i0 + rows + offset) : Nk;
      sgemm(true, rows, kmax, D, spec.scale, qp, stride, kp, stride, 0.0f, S.data(), kmax);
      if (rel) {
        // q·R for every table row at once: [rows, D] x [2g-1, D]^T, unscaled q as in SAM.
        sgemm(true, rows, 2 * gh - 1, D, 1.0f, qp, stride, rel_h_tab.data(), D, 0.0f, PH.data(), 2 * gh - 1);
        sgemm(true, rows, 2 * gw - 1, D, 1.0f, qp, stride, rel_w_tab.data(), D, 0.0f, PW.data(), 2 * gw - 1);
      }
      for (int64_t r = 0; r < rows; ++r) {
        float* s = S.data() + r * kmax;
        const int64_t i = i0 + r;
        int64_t visible = kmax;
        if (spec.causal) visible = std::min(kmax, i + offset + 1);
        if (rel) {
          const int yi = static_cast<int>(i / gw), xi = static_cast<int>(i % gw);
          const float* ph = PH.data() + r * (2 * gh - 1) + yi + gh - 1;  // ph[-ky] = q_i·Rh[yi - ky + gh - 1]
          const float* pw = PW.data() + r * (2 * gw - 1) + xi + gw - 1;
          for (int ky = 0; ky < gh; ++ky) {
            const float rh = ph[-ky];
            float* row = s + ky * gw;
            for (int kx = 0; kx < gw; ++kx) row[kx] += rh + pw[-kx];
          }
        }
        softmax_row(s, visible);
        for (int64_t j = visible; j < kmax; ++j) s[j] = 0.0f;
      }
      float* op = O + (b * Nq + i0) * stride + h * D;
      sgemm(false, rows, D, kmax, 1.0f, S.data(), kmax, vp, stride, 0.0f, op, stride);
    }
  });
}

}  // namespace folio::cpu
