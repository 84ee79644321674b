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
  constexpr int64_t kQBlock = 64;
  const int64_t qblocks = (Nq + kQBlock - 1) / kQBlock;
  const int64_t offset = Nk - Nq;  // causal: query i is at absolute position i + offset

  parallel_for(B * H * qblocks, 1, [&](int64_t t0, int64_t t1) {
    std::vector<float> S(kQBlock * Nk);
    std::vector<float> rh(gh), rw(gw);
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
      for (int64_t r = 0; r < rows; ++r) {
        float* s = S.data() + r * kmax;
        const int64_t i = i0 + r;
        int64_t visible = kmax;
        if (spec.causal) visible = std::min(kmax, i + offset + 1);
        if (rel) {
          const float* qi = qp + r * stride;
          const int yi = static_cast<int>(i / gw), xi = static_cast<int>(i % gw);
          for (int ky = 0; ky < gh; ++ky) {
            const float* tab = rel_h_tab.data() + static_cast<int64_t>(yi - ky + gh - 1) * D;
            float acc = 0;
            for (int c = 0; c < D; ++c) acc += qi[c] * tab[c];
            rh[ky] = acc;
          }
          for (int kx = 0; kx < gw; ++kx) {
            const float* tab = rel_w_tab.data() + static_cast<int64_t>(xi - kx + gw - 1) * D;
            float acc = 0;
            for (int c = 0; c < D; ++c) acc += qi[c] * tab[c];
            rw[kx] = acc;
          }
          for (int ky = 0; ky < gh; ++ky)
            for (int kx = 0; kx < gw; ++kx) s[ky * gw + kx] += rh[ky] + rw[kx];
        }
        float mx = -INFINITY;
        for (int64_t j = 0; j < visible; ++j) mx = std::max(mx, s[j]);
        float sum = 0.0f;
        for (int64_t j = 0; j < visible; ++j) {
          s[j] = fast_exp(s[j] - mx);
          sum += s[j];
        }
        const float inv = 1.0f / sum;
        for (int64_t j = 0; j < visible; ++j) s[j] *= inv;
        for (int64_t j = visible; j < kmax; ++j) s[j] = 0.0f;
      }
      float* op = O + (b * Nq + i0) * stride + h * D;
      sgemm(false, rows, D, kmax, 1.0f, S.data(), kmax, vp, stride, 0.0f, op, stride);
    }
  });
}

}  // namespace folio::cpu
