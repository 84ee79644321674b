// Driver of the int8 attention (attention_int8.h). Keys and values of each (batch, head) are
// quantised and packed once like weights (core/packed_int8.h): k per key row, v transposed so
// that each head channel is a "row" with its own scale. Then, per block of query rows, the
// int8 block kernel (int8_kernels.h) computes the logits and P·V, with the softmax (and SAM's
// relative-position terms, small fp32 products) in between; the logits of a block (rows x
// keys f32, under 0.6 MB for 4096 keys) stay in L2 instead of going through memory as one big
// product would.
#include "backend/cpu/attention_int8.h"

#include <algorithm>
#include <memory>
#include <vector>

#include "backend/cpu/int8_kernels.h"
#include "backend/cpu/prefetch_rows.h"
#include "core/error.h"
#include "core/packed_int8.h"
#include "core/parallel.h"

namespace folio::cpu {

namespace {

using namespace packed_int8;

constexpr int64_t kQueryBlock = 36;  // query rows per task: 6 register tiles of the kernel
// Heads of at most this many key elements (keys x head size) are packed inside the tasks.
constexpr int64_t kPackInTaskElements = 64 * 1024;

struct Packed {
  // Not value-initialised (a vector zeroed several MB per call for nothing): the packers
  // write every byte of every group, padding rows and padding k included.
  std::unique_ptr<int8_t[]> bytes;
  int64_t rows = 0, Kp = 0;  // rows padded to 16
  int8_t* at(int64_t i) { return bytes.get() + i * rows * (Kp + kRowExtra); }
  const int8_t* at(int64_t i) const { return bytes.get() + i * rows * (Kp + kRowExtra); }
};

// `count` matrices packed one after another by pack(i, destination).
template <class Pack>
Packed pack_many(int64_t count, int64_t rows, int64_t K, Pack pack) {
  Packed p;
  p.rows = padded_rows(rows);
  p.Kp = padded_k(K);
  p.bytes.reset(new int8_t[static_cast<size_t>(count * p.rows * (p.Kp + kRowExtra))]);
  parallel_for(count, 1, [&](int64_t i0, int64_t i1) {
    for (int64_t i = i0; i < i1; ++i) pack(i, p.at(i));
  });
  return p;
}

// Rows of one head (n floats each, a multiple of 8) moved between the token grid and a task's
// own buffer: row r from src(r) to dst(r) for r in [0, count), with request(r) called
// rows_ahead(n) rows early on the grid's side. Inline copies: a head's rows (256 bytes, 3 KB
// apart at 768 channels) are too far apart for the hardware prefetchers, and a memcpy call per
// row waited on memory for each (a quarter of a SAM window layer's attention time).
template <class Src, class Dst, class Request>
void move_head_rows(int64_t count, int64_t n, Src src, Dst dst, Request request) {
  const int64_t ahead = rows_ahead(n);
  for (int64_t r = 0; r < std::min(count, ahead); ++r) request(r);
  for (int64_t r = 0; r < count; ++r) {
    if (r + ahead < count) request(r + ahead);
    const float* from = src(r);
    float* to = dst(r);
    for (int64_t i = 0; i < n; i += 8) _mm256_storeu_ps(to + i, _mm256_loadu_ps(from + i));
  }
}

// Grid rows into buffer rows: the grid's lines requested for reading.
template <class Src>
void gather_head_rows(float* dst, int64_t count, int64_t n, Src src) {
  move_head_rows(count, n, src, [&](int64_t r) { return dst + r * n; }, [&](int64_t r) { prefetch_row(src(r), n); });
}

// Buffer rows into grid rows: the grid's lines requested for writing, so the stores do not wait.
template <class Dst>
void scatter_head_rows(const float* src, int64_t count, int64_t n, Dst dst) {
  move_head_rows(count, n, [&](int64_t r) { return src + r * n; }, dst, [&](int64_t r) { prefetch_row_for_write(dst(r), n); });
}

// y[rows, groups*16] = a_scale * (codes · wᵀ) for quantised rows against a packed matrix.
Int8Block block(const uint8_t* a, const float* a_scale, const int32_t* a_zero, int64_t rows, int64_t Kp,
                const int8_t* w, int64_t w_rows, float* y, int64_t ldy, int32_t* scratch) {
  Int8Block b;
  b.a = a;
  b.a_scale = a_scale;
  b.a_zero = a_zero;
  b.rows = rows;
  b.Kp = Kp;
  b.w = w;
  b.groups = w_rows / kGroupRows;
  b.y = y;
  b.ldy = ldy;
  b.scratch = scratch;
  b.y_in_memory = false;  // one block of logits or of a head's outputs: in L2
  return b;
}

// Where the attention's rows are. Batches: row i of batch b is row b * N + i of q/k/v/out
// ([B, N, H*D]). SAM's token grids (window_attention_int8): `token_row` [B * N] gives the row
// of q/k/v holding window b's token i (the padding row for padding), and of out for real ones.
struct Rows {
  int64_t B = 0, Nq = 0, Nk = 0;
  const int32_t* token_row = nullptr;
};

void run(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec, const Rows& layout);

}  // namespace

void attention_int8(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) {
  const int64_t H = spec.heads, D = spec.head_dim, stride = H * D;
  if (q.ndim() != 3 || k.ndim() != 3 || v.ndim() != 3 || q.dim(2) != stride || k.dim(2) != stride ||
      v.dim(2) != stride || k.dim(0) != q.dim(0) || v.dim(0) != q.dim(0) || v.dim(1) != k.dim(1) || out.shape() != q.shape())
    throw internal_error("attention_int8: q " + shape_str(q.shape()) + " k " + shape_str(k.shape()) + " v " +
                         shape_str(v.shape()) + " do not fit heads=" + std::to_string(H) + " x " + std::to_string(D));
  run(q, k, v, out, spec, Rows{q.dim(0), q.dim(1), k.dim(1), nullptr});
}

void window_attention_int8(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) {
  const std::vector<int32_t> token_row = window_token_rows(q, k, v, out, spec, "window_attention_int8");
  const int64_t N = int64_t(spec.grid_h) * spec.grid_w;
  run(q, k, v, out, spec, Rows{static_cast<int64_t>(token_row.size()) / N, N, N, token_row.data()});
}

namespace {

void run(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec, const Rows& layout) {
  const int64_t B = layout.B, Nq = layout.Nq, Nk = layout.Nk;
  const int64_t H = spec.heads, D = spec.head_dim, stride = H * D;
  const int32_t* const token_row = layout.token_row;
  if (D % kGroupRows != 0) throw internal_error("attention_int8: head size " + std::to_string(D) + " is not a multiple of 16");
  const bool rel = spec.rel_pos_h.defined() && spec.rel_pos_h.numel() > 0;
  const int64_t gh = spec.grid_h, gw = spec.grid_w;
  if (rel && (gh * gw != Nk || Nq != Nk || spec.rel_pos_h.dim(0) != 2 * gh - 1 ||
              spec.rel_pos_w.dim(0) != 2 * gw - 1 || spec.rel_pos_h.dim(1) != D))
    throw internal_error("attention_int8: relative-position tables do not fit the grid");

  const float* Q = q.data<float>();
  const float* K = k.data<float>();
  const float* V = v.data<float>();
  float* O = out.data<float>();

  // The row of q (and of out) that holds query i of batch b.
  auto query_row = [&](int64_t b, int64_t i) -> int64_t { return token_row ? token_row[b * Nq + i] : b * Nq + i; };
  // Keys [Nk, D] per (batch, head) as packed rows; values as packed columns ([D, Nk]), so
  // P·V is codes x "weight" with one scale per head channel.
  auto head = [&](const float* base, int64_t i) { return base + (i / H) * Nk * stride + (i % H) * D; };
  auto pack_keys = [&](int64_t i, int8_t* dst) { pack_rows_vnni(head(K, i), Nk, D, stride, dst); };
  auto pack_values = [&](int64_t i, int8_t* dst) { pack_cols_vnni(head(V, i), Nk, D, stride, dst); };
  // Small heads (SAM's windows: 25 x 12 of 196 keys, CLIP's 16 of 257) are packed by the task
  // that needs them, into the thread's own buffers, and used while in L1/L2; packed all up
  // front, their 8 MB went to L3 and every (window, head) came back from there. Large heads
  // (global attention, 4096 keys) are packed once and shared: each is used by 114 tasks.
  const bool pack_in_task = Nk * D <= kPackInTaskElements;
  if (token_row && !pack_in_task) throw internal_error("attention_int8: windows of " + std::to_string(Nk) + " tokens are too large");
  const Packed keys = pack_in_task ? Packed{} : pack_many(B * H, Nk, D, pack_keys);
  const Packed values = pack_in_task ? Packed{} : pack_many(B * H, D, Nk, pack_values);
  const int64_t key_bytes = padded_rows(Nk) * (padded_k(D) + kRowExtra);
  const int64_t value_bytes = padded_rows(D) * (padded_k(Nk) + kRowExtra);
  // SAM's relative-position terms q·R stay fp32 products (a sixteenth of the q·kᵀ work at
  // 4096 keys): in int8 they doubled the attention's error in the unit test, since they are
  // unscaled and as large as the logits. Their own AVX-512 loop over the tables transposed
  // once here: OpenBLAS spent more time packing than multiplying on these shapes (36 rows x
  // 27 or 127 columns x 64), and SAM's windows make ~29,000 such calls per Base page.
  const int64_t Th = 2 * gh - 1, Tw = 2 * gw - 1, Tph = padded_rows(Th), Tpw = padded_rows(Tw);
  std::vector<float> tab_h_t, tab_w_t;
  if (rel) {
    auto transpose = [&](const Tensor& tab, int64_t T, int64_t Tp) {
      const std::vector<float> t = tab.to_vector_f32();
      std::vector<float> out(static_cast<size_t>(D * Tp), 0.0f);
      for (int64_t i = 0; i < T; ++i)
        for (int64_t d = 0; d < D; ++d) out[d * Tp + i] = t[i * D + d];
      return out;
    };
    tab_h_t = transpose(spec.rel_pos_h, Th, Tph);
    tab_w_t = transpose(spec.rel_pos_w, Tw, Tpw);
  }

  const int64_t Dp = padded_k(D), Nk16 = padded_rows(Nk), Nk4 = padded_k(Nk);
  // Row stride of the logits block: one cache line past the 16-column padding, so that at
  // 4096 keys (16 KB rows) the kernel's stores to 6 consecutive rows do not all fall on the
  // same L1 sets and 4 KB-aliased addresses as each other.
  const int64_t ldl = Nk16 + 16;
  const int64_t qblocks = (Nq + kQueryBlock - 1) / kQueryBlock;
  const int64_t offset = Nk - Nq;  // causal: query i is at absolute position i + offset
  // SAM's windows at the bottom and right edges (AttentionSpec::window_source_grid): only the
  // query rows of real tokens are computed, 16% of a 1024-px view's 4,900 window rows being
  // padding. real_rows[w]: those rows of within-view window w; empty where all are real and
  // the rows are consecutive (always listed on token grids, where no window's rows are).
  std::vector<std::vector<int32_t>> real_rows;
  if (const int64_t S = spec.window_source_grid; S > 0) {
    const int64_t nw = (S + gw - 1) / gw;
    if (!rel || gh != gw || B % (nw * nw) != 0)
      throw internal_error("attention_int8: " + std::to_string(B) + " windows of " + std::to_string(gh) + "x" +
                           std::to_string(gw) + " do not tile a grid of " + std::to_string(S));
    real_rows.resize(nw * nw);
    for (int64_t w = 0; w < nw * nw; ++w) {
      const int64_t real_h = std::min(gh, S - (w / nw) * gh), real_w = std::min(gw, S - (w % nw) * gw);
      if (real_h == gh && real_w == gw && !token_row) continue;
      for (int64_t y = 0; y < real_h; ++y)
        for (int64_t x = 0; x < real_w; ++x) real_rows[w].push_back(static_cast<int32_t>(y * gw + x));
    }
  }
  parallel_for(B * H * qblocks, 1, [&](int64_t t0, int64_t t1) {
    constexpr int64_t R = kQueryBlock;
    thread_local std::vector<uint8_t> codes, hi, lo;
    thread_local std::vector<int8_t> own_keys, own_values;
    int64_t own_bh = -1;  // the head whose keys and values own_* hold, in this range of tasks
    thread_local std::vector<float> logits, ph, pw, rows_h, cols_w, gathered_q, gathered_out, head_rows;
    thread_local std::vector<int32_t> scratch;
    codes.resize(R * Dp);
    hi.resize(R * Nk4);
    lo.resize(R * Nk4);
    logits.resize(R * ldl);
    scratch.resize(R * 4 * kGroupRows);
    if (rel) {
      ph.resize(R * Tph);
      pw.resize(R * Tpw);
      rows_h.resize(gh);
      cols_w.resize(gw);
    }
    float q_scale[R], logit_scale[R], hi_scale[R], lo_scale[R];
    int32_t q_zero[R], no_zero[R] = {}, query[R];
    for (int64_t t = t0; t < t1; ++t) {
      const int64_t bh = t / qblocks, b = bh / H, h = bh % H;
      // The block's query rows: R consecutive ones, or the next R real ones of an edge window.
      const std::vector<int32_t>* real = real_rows.empty() || real_rows[b % real_rows.size()].empty()
                                             ? nullptr
                                             : &real_rows[b % real_rows.size()];
      const int64_t n_rows = real ? static_cast<int64_t>(real->size()) : Nq, p0 = (t % qblocks) * R;
      if (p0 >= n_rows) continue;
      const int64_t rows = std::min(R, n_rows - p0);
      for (int64_t r = 0; r < rows; ++r) query[r] = static_cast<int32_t>(real ? (*real)[p0 + r] : p0 + r);
      // Rows that are not consecutive are gathered (and their outputs scattered back after).
      const bool gather = token_row || query[rows - 1] - query[0] != rows - 1;
      const float* qp = Q + query_row(b, query[0]) * stride + h * D;
      int64_t ldq = stride;
      if (gather) {
        gathered_q.resize(R * D);
        gathered_out.resize(R * D);
        gather_head_rows(gathered_q.data(), rows, D, [&](int64_t r) { return Q + query_row(b, query[r]) * stride + h * D; });
        qp = gathered_q.data();
        ldq = D;
      }
      if (pack_in_task && own_bh != bh) {
        own_keys.resize(key_bytes);
        own_values.resize(value_bytes);
        if (token_row) {
          // The window's keys and values, gathered from the grid into [Nk, D] and packed from
          // there (the same values, so the same bytes as packing a cut-out window).
          head_rows.resize(Nk * D);
          auto gather_head = [&](const float* base) {
            gather_head_rows(head_rows.data(), Nk, D, [&](int64_t j) { return base + token_row[b * Nk + j] * stride + h * D; });
          };
          gather_head(K);
          pack_rows_vnni(head_rows.data(), Nk, D, D, own_keys.data());
          gather_head(V);
          pack_cols_vnni(head_rows.data(), Nk, D, D, own_values.data());
        } else {
          pack_keys(bh, own_keys.data());
          pack_values(bh, own_values.data());
        }
        own_bh = bh;
      }
      const int8_t* head_keys = pack_in_task ? own_keys.data() : keys.at(bh);
      const int8_t* head_values = pack_in_task ? own_values.data() : values.at(bh);
      quantize_rows_u8_vnni(qp, ldq, rows, D, Dp, codes.data(), q_scale, q_zero);
      for (int64_t r = 0; r < rows; ++r) logit_scale[r] = q_scale[r] * spec.scale;
      int8_block_vnni(block(codes.data(), logit_scale, q_zero, rows, Dp, head_keys, padded_rows(Nk), logits.data(), ldl,
                            scratch.data()));
      if (rel) {  // unscaled q, as in SAM
        // Only the table rows the block's softmax reads: yi - ky + gh - 1 for the block's grid
        // rows yi and every ky, xi - kx + gw - 1 likewise. A block of 36 queries in one or two
        // grid rows of a 64-wide grid reads 65 of the 127 rows of the row table.
        int64_t y_min = Nq, y_max = 0, x_min = Nq, x_max = 0;
        for (int64_t r = 0; r < rows; ++r) {
          y_min = std::min<int64_t>(y_min, query[r] / gw), y_max = std::max<int64_t>(y_max, query[r] / gw);
          x_min = std::min<int64_t>(x_min, query[r] % gw), x_max = std::max<int64_t>(x_max, query[r] % gw);
        }
        auto range = [](int64_t lo, int64_t hi, int64_t Tp) {  // [lo, hi] in 16-column steps
          return std::pair<int64_t, int64_t>{lo / kGroupRows * kGroupRows, std::min(Tp, padded_rows(hi + 1))};
        };
        const auto [h0, h1] = range(y_min, y_max + gh - 1, Tph);
        const auto [w0, w1] = range(x_min, x_max + gw - 1, Tpw);
        rel_pos_products_avx512(qp, ldq, rows, tab_h_t.data(), D, Tph, h0, h1, ph.data(), Tph);
        rel_pos_products_avx512(qp, ldq, rows, tab_w_t.data(), D, Tpw, w0, w1, pw.data(), Tpw);
      }
      for (int64_t r = 0; r < rows; ++r) {
        const int64_t i = query[r];
        const int64_t visible = spec.causal ? std::min(Nk, i + offset + 1) : Nk;
        if (rel) {
          // Key (ky, kx) of query (yi, xi) reads table rows yi - ky + gh - 1 and xi - kx + gw - 1.
          const int64_t yi = i / gw, xi = i % gw;
          for (int64_t ky = 0; ky < gh; ++ky) rows_h[ky] = ph[r * Tph + yi - ky + gh - 1];
          for (int64_t kx = 0; kx < gw; ++kx) cols_w[kx] = pw[r * Tpw + xi - kx + gw - 1];
        }
        const int64_t sum = softmax_codes_vnni(logits.data() + r * ldl, Nk, visible, rel ? rows_h.data() : nullptr,
                                               rel ? cols_w.data() : nullptr, gw, hi.data() + r * Nk4,
                                               lo.data() + r * Nk4, Nk4);
        hi_scale[r] = 256.0f / static_cast<float>(sum);
        lo_scale[r] = 1.0f / static_cast<float>(sum);
      }
      // out = (256 * hi·v + lo·v) / Σ codes, v's per-channel scale applied by the kernel.
      float* op = gather ? gathered_out.data() : O + query_row(b, query[0]) * stride + h * D;
      const int64_t ldo = gather ? D : stride;
      int8_block_vnni(block(hi.data(), hi_scale, no_zero, rows, Nk4, head_values, padded_rows(D), op, ldo, scratch.data()));
      Int8Block low = block(lo.data(), lo_scale, no_zero, rows, Nk4, head_values, padded_rows(D), op, ldo, scratch.data());
      low.accumulate = true;
      int8_block_vnni(low);
      if (gather) scatter_head_rows(op, rows, D, [&](int64_t r) { return O + query_row(b, query[r]) * stride + h * D; });
    }
  });
}

}  // namespace

}  // namespace folio::cpu
