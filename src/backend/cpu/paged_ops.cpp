// CPU versions of the batched-decoding ops (backend.h, "Batched decoding over a paged KV
// cache"). Plain loops: they are the reference the CUDA kernels are tested against and let the
// batched engine run (slowly) without a GPU. Index tensors are host I32 tensors here.
#include <initializer_list>
#include <algorithm>
#include <cmath>
#include <cstring>
#include <limits>
#include <vector>

#include "backend/cpu/cpu_kernels.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio::cpu {
namespace {

void expect_i32(const Tensor& t, const char* op, const char* name) {
  if (t.dtype() != DType::kI32)
    throw internal_error(std::string(op) + ": " + name + " must be I32, got " + dtype_name(t.dtype()));
}

}  // namespace

void kv_store(const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool) {
  expect_i32(slots, "kv_store", "slots");
  const int64_t W = k.dim(-1), T = k.numel() / W, S = k_pool.numel() / W;
  if (slots.numel() != T || v.numel() != k.numel() || k_pool.dim(-1) != W || v_pool.numel() != k_pool.numel())
    throw internal_error("kv_store: k " + shape_str(k.shape()) + ", slots " + shape_str(slots.shape()) + ", pool " +
                         shape_str(k_pool.shape()));
  for (int64_t t = 0; t < T; ++t) {
    const int32_t s = slots.data<int32_t>()[t];
    if (s < 0) continue;  // an inactive row of a padded batch
    if (s >= S) throw internal_error("kv_store: slot " + std::to_string(s) + " outside the pool");
    std::memcpy(k_pool.data<float>() + s * W, k.data<float>() + t * W, W * 4);
    std::memcpy(v_pool.data<float>() + s * W, v.data<float>() + t * W, W * 4);
  }
}

void paged_attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool, const Tensor& block_table,
                     const Tensor& seq_lens, int block_size, const AttentionSpec& spec, Tensor& out) {
  expect_i32(block_table, "paged_attention", "block_table");
  expect_i32(seq_lens, "paged_attention", "seq_lens");
  const int H = spec.heads, D = spec.head_dim;
  const int64_t W = int64_t(H) * D, B = q.numel() / W, max_blocks = block_table.dim(-1);
  const int64_t slots = k_pool.numel() / W;
  if (q.dim(-1) != W || out.numel() != q.numel() || seq_lens.numel() != B || block_table.numel() != B * max_blocks)
    throw internal_error("paged_attention: q " + shape_str(q.shape()) + ", block_table " +
                         shape_str(block_table.shape()) + ", seq_lens " + shape_str(seq_lens.shape()));
  // Checked here, not in the workers: an exception must not leave a pool thread.
  for (int64_t b = 0; b < B; ++b) {
    const int len = seq_lens.data<int32_t>()[b];
    if (len > max_blocks * block_size) throw internal_error("paged_attention: sequence longer than its block table");
    for (int64_t j = 0; j < (len + block_size - 1) / block_size; ++j) {
      const int64_t blk = block_table.data<int32_t>()[b * max_blocks + j];
      if (blk < 0 || (blk + 1) * block_size > slots) throw internal_error("paged_attention: block outside the pool");
    }
  }
  parallel_for(B * H, 1, [&](int64_t i0, int64_t i1) {
    std::vector<float> s;
    for (int64_t bh = i0; bh < i1; ++bh) {
      const int64_t b = bh / H, h = bh % H;
      const int len = seq_lens.data<int32_t>()[b];
      float* o = out.data<float>() + b * W + h * D;
      std::fill(o, o + D, 0.f);
      if (len <= 0) continue;  // an inactive row of a padded batch
      const float* qv = q.data<float>() + b * W + h * D;
      s.assign(len, 0.f);
      float mx = -std::numeric_limits<float>::infinity();
      for (int j = 0; j < len; ++j) {
        const int64_t slot = int64_t(block_table.data<int32_t>()[b * max_blocks + j / block_size]) * block_size +
                             j % block_size;
        const float* kv = k_pool.data<float>() + slot * W + h * D;
        float d = 0;
        for (int c = 0; c < D; ++c) d += qv[c] * kv[c];
        s[j] = d * spec.scale;
        mx = std::max(mx, s[j]);
      }
      float sum = 0;
      for (float& x : s) sum += (x = std::exp(x - mx));
      for (int j = 0; j < len; ++j) {
        const int64_t slot = int64_t(block_table.data<int32_t>()[b * max_blocks + j / block_size]) * block_size +
                             j % block_size;
        const float* vv = v_pool.data<float>() + slot * W + h * D;
        const float p = s[j] / sum;
        for (int c = 0; c < D; ++c) o[c] += p * vv[c];
      }
    }
  });
}

void greedy_next(const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                 const Tensor& window, const Tensor& whitelist, Tensor& next) {
  const char* op = "greedy_next";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&history, &history_len, &ngram, &window, &next}) expect_i32(*t, op, "index tensor");
  const int64_t V = logits.dim(-1), B = logits.numel() / V, cap = history.dim(-1);
  if (logits.dtype() != DType::kF32 || history.numel() != B * cap || history_len.numel() != B ||
      ngram.numel() != B || window.numel() != B || next.numel() != B)
    throw internal_error("greedy_next: logits " + shape_str(logits.shape()) + ", history " + shape_str(history.shape()));
  const int32_t* white = whitelist.defined() && whitelist.numel() ? whitelist.data<int32_t>() : nullptr;
  const int64_t n_white = white ? whitelist.numel() : 0;
  for (int64_t b = 0; b < B; ++b) {
    int32_t* hist = history.data<int32_t>() + b * cap;
    const int64_t n = history_len.data<int32_t>()[b];
    const int64_t N = ngram.data<int32_t>()[b], Wn = std::min<int64_t>(window.data<int32_t>()[b], cap);
    // o[i] (i-th generated id) sits at hist[cap - n + i] for the last `cap` of them.
    auto o = [&](int64_t i) { return hist[cap - n + i]; };
    std::vector<int32_t> banned;
    if (N > 0 && n >= N) {
      for (int64_t i = std::max<int64_t>(0, n - Wn); i <= n - N; ++i) {
        bool same = true;
        for (int64_t j = 0; j < N - 1 && same; ++j) same = o(i + j) == o(n - N + 1 + j);
        if (same && std::find(white, white + n_white, o(i + N - 1)) == white + n_white) banned.push_back(o(i + N - 1));
      }
    }
    const float* l = logits.data<float>() + b * V;
    int32_t best = -1;
    float best_v = -std::numeric_limits<float>::infinity();
    for (int64_t v = 0; v < V; ++v) {
      if (!(l[v] > best_v) && best >= 0) continue;  // first maximum wins (lowest id on ties)
      if (std::find(banned.begin(), banned.end(), int32_t(v)) != banned.end()) continue;
      best = int32_t(v);
      best_v = l[v];
    }
    if (best < 0) best = 0;  // every id banned: cannot happen with V > window
    std::memmove(hist, hist + 1, (cap - 1) * sizeof(int32_t));
    hist[cap - 1] = best;
    history_len.data<int32_t>()[b] = int32_t(n + 1);
    next.data<int32_t>()[b] = best;
  }
}

void advance_positions(Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table, int block_size) {
  const int64_t B = positions.numel(), max_blocks = block_table.dim(-1);
  for (int64_t b = 0; b < B; ++b) {
    if (positions.data<int32_t>()[b] < 0) continue;  // inactive row
    const int32_t p = positions.data<int32_t>()[b] + 1;
    positions.data<int32_t>()[b] = p;
    seq_lens.data<int32_t>()[b] = p + 1;
    const int64_t blk = std::min<int64_t>(p / block_size, max_blocks - 1);
    slots.data<int32_t>()[b] = block_table.data<int32_t>()[b * max_blocks + blk] * block_size + p % block_size;
  }
}

}  // namespace folio::cpu
