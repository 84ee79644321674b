// The op set every model is written against. One interface, two implementations:
// cpu/ (f32 activations, any weight dtype, OpenBLAS + AVX-512 loops) and cuda/ (bf16
// activations, fp32 accumulation). Model code calls these and never branches on device.
//
// Conventions
// - Tensors are dense row-major. "Rows" is the product of all but the last dimension.
// - Activations use act_dtype(); weights may be F32, BF16 or F16 and are read as-is.
// - Outputs are preallocated by the caller (backend.empty) with the documented shape;
//   an op may write its output in place over an input only where it says so.
// - Errors (shape mismatches, unsupported dtypes) throw folio::Error(kInternal) naming the
//   op and the shapes: they are programming errors, never user input.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace folio {

struct AttentionSpec {
  int heads = 1;
  int head_dim = 64;
  float scale = 0.125f;
  // Causal: query i (of Nq, the last Nq positions of the Nk keys) sees keys j <= i + Nk - Nq.
  bool causal = false;
  // Decomposed relative-position bias (SAM). When rel_pos_h is defined the keys and queries
  // form the same grid_h x grid_w grid (Nq == Nk == grid_h*grid_w, token t at row t / grid_w,
  // column t % grid_w) and logits(i, j) += q_i·Rh[row_i - row_j + grid_h - 1] +
  // q_i·Rw[col_i - col_j + grid_w - 1], with the unscaled q. Tables: [2*grid_h-1, head_dim],
  // [2*grid_w-1, head_dim], already resized to the grid. Never materialised as [N, N].
  Tensor rel_pos_h, rel_pos_w;
  int grid_h = 0, grid_w = 0;
  // SAM's windows: when > 0, the batch is views x nw x nw windows of grid_h x grid_w tokens
  // (window row-major) cut from a window_source_grid x window_source_grid token grid padded at
  // the bottom and right to nw windows a side. The padding's query rows are dropped when the
  // windows are merged: a backend may skip them and leave their outputs unspecified. Their keys
  // and values still take part, as in SAM.
  int window_source_grid = 0;
  // Run the products in int8 where the backend has a fast int8 product (fast_int8_linear):
  // the vision encoder's int8 mode. The softmax stays fp32. Ignored by other backends.
  bool int8 = false;
};

// The rows of Backend::window_attention's q/k/v that its windows read: for each view, window
// row and window column, the win x win tokens of the window row-major, as rows of `views`
// stacked S x S grids, or views * S * S (the padding row) past the grid's bottom or right edge.
std::vector<int32_t> window_token_rows(int64_t views, int64_t S, int64_t win);
// The same for window_attention's arguments, after checking that they fit its contract (q, k,
// v [views * S * S + 1, heads * head_dim], out [views * S * S, heads * head_dim], square
// windows); internal_error naming `op` otherwise.
std::vector<int32_t> window_token_rows(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                       const AttentionSpec& spec, const char* op);
// Its inverse for the `tokens` grid tokens: the position of each in `cut` (padding skipped).
std::vector<int32_t> window_merge_rows(const std::vector<int32_t>& cut, int64_t tokens);

// One routed expert's SwiGLU weights: down(silu(gate(x)) * up(x)).
struct ExpertWeights {
  Tensor gate, up, down;  // [I, D], [I, D], [D, I]
};

class Backend {
 public:
  virtual ~Backend() = default;
  virtual std::string name() const = 0;
  virtual Device device() const = 0;
  virtual DType act_dtype() const = 0;
  // The dtype of residual streams (the decoder's hidden state, SAM's and CLIP's token rows):
  // what every block adds its output to. Kept in fp32 where activations are bf16, because a
  // bf16 sum rounds the large residual elements on every layer and the error accumulates.
  // add, layer_norm and rms_norm accept it mixed with act_dtype().
  virtual DType residual_dtype() const { return act_dtype(); }
  // The dtype of the vision encoder's activations (SAM, CLIP, projector; residual streams are
  // residual_dtype()). Every op above accepts it where it accepts act_dtype(); the loader
  // stores the encoder's matrices in it when it is a 16-bit type (backend/cuda: f16).
  virtual DType vision_dtype() const { return act_dtype(); }

  // Memory. empty() on the device; to_device() of a host tensor (weights); to_host() copy.
  virtual Tensor empty(const Shape& shape, DType dt) = 0;
  virtual Tensor to_device(const Tensor& host) = 0;
  virtual Tensor to_host(const Tensor& t) = 0;
  // Host f32 -> activation tensor on the device, and back to host f32.
  virtual Tensor upload_f32(const Tensor& host_f32) = 0;
  virtual Tensor download_f32(const Tensor& t) = 0;
  // Copies a host tensor's bytes into an existing tensor of the same shape and dtype (ordered
  // with the ops queued before and after; the host tensor may be reused at once). A host F32
  // tensor may also go into a BF16 or F16 one: converted on the way, rounded to nearest even.
  virtual void write(Tensor& dst, const Tensor& host) = 0;
  virtual void synchronize() {}
  // Named byte counts of the backend's own memory (e.g. "device_used_peak"), for reports.
  // Empty where the backend keeps none (the CPU's memory is the process's RSS).
  virtual std::vector<std::pair<std::string, int64_t>> memory_stats() { return {}; }
  // True when linear() with I8Packed weights is faster than with the stored ones here (the
  // CPU backend on a CPU with AVX512-VNNI). Loaders keep the stored weights otherwise.
  virtual bool fast_int8_linear() const { return false; }

  // y[M,N] = x[M,K] · w[N,K]^T (+ bias[N]). bias may be nullptr.
  // w of dtype I8Packed (weights/pack_int8.h) is read by the CPU backend only.
  virtual void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) = 0;
  // linear() followed by one more step on its result, which a backend may fuse into the
  // product's last pass (the CPU's int8 product does; it saves a pass over memory):
  //   kGeluErf / kQuickGelu: y = act(x·wᵀ + bias), y an activation tensor of linear's shape;
  //   kAddTo: y = y + (x·wᵀ + bias), y the residual stream (the values of linear into a
  //   temporary, then add(y, t, y); a backend that fuses the add may skip rounding the
  //   temporary to the activation dtype).
  // The default runs exactly those ops.
  enum class LinearThen { kGeluErf, kQuickGelu, kAddTo };
  virtual void linear_then(const Tensor& x, const Tensor& w, const Tensor* bias, LinearThen then, Tensor& y);
  // A transformer MLP added to the residual stream: y += act(x·w1ᵀ + b1)·w2ᵀ + b2, act
  // kGeluErf or kQuickGelu. The default is linear_then(.., act, t) then
  // linear_then(t, .., kAddTo, y); a backend may keep the [rows, hidden] intermediate in
  // cache, block by block, instead of writing it to memory and reading it back.
  virtual void mlp_add(const Tensor& x, const Tensor& w1, const Tensor* b1, LinearThen act, const Tensor& w2,
                       const Tensor* b2, Tensor& y);
  // Per row over the last dim D. weight/bias [D]. y may alias x.
  virtual void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) = 0;
  virtual void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& y) = 0;
  // y = a + b, same shape; y may alias a or b.
  virtual void add(const Tensor& a, const Tensor& b, Tensor& y) = 0;
  // x[rows, N, C] += p[N, C] for every leading index (position embeddings). In place.
  virtual void add_broadcast(Tensor& x, const Tensor& p) = 0;
  // In place activations.
  virtual void gelu_erf(Tensor& x) = 0;
  virtual void quick_gelu(Tensor& x) = 0;
  // y[T, I] = silu(gate[T, I]) * up[T, I]. y may alias gate.
  virtual void silu_mul(const Tensor& gate, const Tensor& up, Tensor& y) = 0;

  // q[B, Nq, H*D], k/v[B, Nk, H*D] -> out[B, Nq, H*D]. Softmax in fp32.
  virtual void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                         const AttentionSpec& spec) = 0;
  // SAM's windowed attention on token grids, the windows cut by the backend: q, k, v
  // [views * S * S + 1, H*D] hold each view's S x S grid (S = spec.window_source_grid) in
  // row-major order, then one padding row (the projections of a zero token). Each grid is
  // padded at the bottom and right to whole spec.grid_h x spec.grid_w windows with that row,
  // attention runs within each window (spec's relative-position tables are the window's),
  // and out [views * S * S, H*D] receives the real tokens' outputs in grid order: what
  // cutting the windows from the normalised grid, projecting them and merging them back
  // gives. The default cuts the windows with gather_rows around attention(); a backend may
  // read the grid in place (the CPU's int8 attention does).
  virtual void window_attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out,
                                const AttentionSpec& spec);
  // Whether window_attention reads the windows' rows from the grids in place for `spec` (no
  // copies). SAM then projects q/k/v on the grid's tokens and a padding row and calls it;
  // otherwise SAM cuts the windows from the normalised tokens and projects those (on a GPU,
  // three gathers of q/k/v cost more than projecting the windows' 804 padding rows).
  virtual bool window_attention_in_place(const AttentionSpec& spec) const { return false; }
  // NeoX ("rotate half") RoPE over the full head_dim, in place. x[T, H*D]; positions[T] (host).
  virtual void rope_neox(Tensor& x, const std::vector<int32_t>& positions, int heads, int head_dim,
                         float theta) = 0;

  // dst[i] = src[index[i]] (rows), or zeros where index[i] < 0. src may be a weight table
  // (any dtype, converted to act_dtype). index is host data.
  virtual void gather_rows(const Tensor& src, const std::vector<int32_t>& index, Tensor& dst) = 0;
  // y[M, Ca + Cb] = [a | b].
  virtual void concat_cols(const Tensor& a, const Tensor& b, Tensor& y) = 0;
  // 3x3-style convolution input: x channels-last [B, H, W, C] -> cols [B*Ho*Wo, C*k*k], column
  // order (c, ky, kx) to match a [O, C, k, k] weight; zero padding `pad`.
  virtual void im2col(const Tensor& x, int kernel, int stride, int pad, Tensor& cols) = 0;

  // MoE. router: logits[T, E] (fp32) -> softmax over E, top-k (ties to the lower index),
  // weights not renormalised, times scale. ids/weights come back to the host.
  virtual void router_topk(const Tensor& logits, int k, float scale, std::vector<int32_t>& ids,
                           std::vector<float>& weights) = 0;
  // y[T, D] = sum_k weights[t,k] * Expert_{ids[t,k]}(x[t]). Accumulated in fp32; y in the
  // activation or the residual dtype (the latter keeps the experts' outputs unrounded).
  virtual void moe_experts(const Tensor& x, const std::vector<int32_t>& ids, const std::vector<float>& weights,
                           int k, const std::vector<ExpertWeights>& experts, Tensor& y) = 0;
  // x[T, D] -> y[T, D] fp32 copy of the rows (for logits); cheap on CPU.
  virtual void cast_f32(const Tensor& x, Tensor& y) = 0;

  // ---- Batched decoding over a paged KV cache -------------------------------------------
  // Every index below is an I32 tensor on the backend's device, so a whole decode step runs
  // without the host and can be captured once and replayed (capture()).
  // A KV pool is [slots, H*D] with slot = block * block_size + offset; a block table row lists
  // a sequence's blocks in order. Rows of a padded batch that hold no sequence are inactive:
  // slot -1, seq_len 0, position -1; the ops below skip them (their outputs are zeros or junk).

  // gather_rows / rope_neox with the indices / positions on the device.
  virtual void gather_rows_dev(const Tensor& src, const Tensor& index, Tensor& dst) = 0;
  virtual void rope_neox_dev(Tensor& x, const Tensor& positions, int heads, int head_dim, float theta) = 0;
  // k_pool[slots[i]] = k[i], v_pool[slots[i]] = v[i] for the T rows of k/v [T, W].
  virtual void kv_store(const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool) = 0;
  // One query per sequence: q[B, H*D] attends to the first seq_lens[b] keys of its sequence,
  // read through block_table[B, max_blocks]. out[B, H*D]. spec.causal is ignored (the keys are
  // all in the past); no relative-position bias.
  virtual void paged_attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool, const Tensor& block_table,
                               const Tensor& seq_lens, int block_size, const AttentionSpec& spec, Tensor& out) = 0;
  // router_topk with ids [T, k] (I32) and weights [T, k] (F32) left on the device; `renormalise`
  // divides the k weights by their sum (after the scale, like the official code).
  virtual void router_topk_dev(const Tensor& logits, int k, float scale, bool renormalise, Tensor& ids,
                               Tensor& weights) = 0;
  // moe_experts with the routing on the device (ids/weights from router_topk_dev).
  virtual void moe_experts_dev(const Tensor& x, const Tensor& ids, const Tensor& weights, int k,
                               const std::vector<ExpertWeights>& experts, Tensor& y) = 0;
  // Greedy next token per row of logits[B, V] (F32) under the windowed n-gram ban of
  // text/ngram_ban.h: history[B, Hcap] holds each row's generated ids right-aligned (the newest
  // last), history_len[B] how many were generated in all; ngram[B] the n (0: no ban) and
  // window[B] the window (<= Hcap); whitelist (I32, may be empty) ids are never banned.
  // Writes next[B] and appends it to the history (shifting left), history_len += 1.
  virtual void greedy_next(const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                           const Tensor& window, const Tensor& whitelist, Tensor& next) = 0;
  // positions += 1 and slots = the cache slot of the new position through block_table, for
  // the next decode step: positions[B], slots[B], seq_lens[B] (= positions + 1).
  virtual void advance_positions(Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table,
                                 int block_size) = 0;

  // ---- Fused ops (decode steps) ------------------------------------------------------------
  // Each is defined by the composition of the ops above that its comment gives, and that
  // composition is the default (fused_ops.cpp). A backend overrides one where fusing pays: the
  // CUDA backend runs a decode step of a few rows in ~8 kernels per layer instead of ~27.
  // Results equal the composition up to the order of fp32 roundings (and, where noted, one
  // bf16 rounding fewer).

  // For each i: y[i] = rms_norm(x, norm_w, eps) · w[i]ᵀ, the normalised rows rounded to
  // act_dtype() first, as rms_norm into an act_dtype() tensor would. x [M, K] in residual or
  // activation dtype; every w[i] [N_i, K]; y[i] [M, N_i] (act dtype or F32).
  virtual void rms_norm_linear(const Tensor& x, const Tensor& norm_w, float eps, const std::vector<const Tensor*>& w,
                               const std::vector<Tensor*>& y);
  // For each i: y[i] = x · w[i]ᵀ + bias[i] (bias[i] may be nullptr), products that share their
  // input: the q, k and v parts of a fused projection. The CPU's int8 product quantises x
  // once for all of them instead of once per product.
  virtual void linear_many(const Tensor& x, const std::vector<const Tensor*>& w, const std::vector<const Tensor*>& bias,
                           const std::vector<Tensor*>& y);
  // h += x · wᵀ, h in residual_dtype() (or act dtype): a product that ends in a residual add.
  virtual void linear_add(const Tensor& x, const Tensor& w, Tensor& h);
  // rope_neox_dev(q), rope_neox_dev(k), then kv_store(k, v, slots, k_pool, v_pool). q and k are
  // rotated in place.
  virtual void rope_kv_store(Tensor& q, Tensor& k, const Tensor& v, const Tensor& positions, const Tensor& slots,
                             int heads, int head_dim, float theta, Tensor& k_pool, Tensor& v_pool);
  // The MoE router of an fp32 residual row: xn = rms_norm(h) in act_dtype() (the experts'
  // input); logits = rms_norm(h) · routerᵀ with the normalised rows kept in fp32 (a near-tie
  // between experts must not be decided by xn's rounding); router_topk_dev(logits, k, scale,
  // renormalise, ids, weights).
  virtual void rms_norm_route(const Tensor& h, const Tensor& norm_w, float eps, const Tensor& router, int k,
                              float scale, bool renormalise, Tensor& xn, Tensor& ids, Tensor& weights);
  // h += moe_experts_dev(xn, ids, weights, k, experts) + swiglu(xn, shared); shared.gate
  // undefined means no shared experts.
  virtual void moe_add(const Tensor& xn, const Tensor& ids, const Tensor& weights, int k,
                       const std::vector<ExpertWeights>& experts, const ExpertWeights& shared, Tensor& h);

  // Records the work `body` queues (backend ops only; no host reads or uploads of host data)
  // without running it; replay() runs it on the same tensors. On the GPU a CUDA graph; on the
  // CPU replay() calls body() again. Tensors the body allocates must not outlive it.
  class Replay {
   public:
    virtual ~Replay() = default;
    virtual void replay() = 0;
  };
  virtual std::unique_ptr<Replay> capture(const std::function<void()>& body) = 0;
};

// y = x·Wᵀ (+ bias) into a new tensor [rows, N] of dtype dt.
inline Tensor linear_new(Backend& be, const Tensor& x, const Tensor& w, const Tensor* bias, DType dt) {
  Shape s = x.shape();
  s.back() = w.dim(0);
  Tensor y = be.empty(s, dt);
  be.linear(x, w, bias, y);
  return y;
}
// The same into a new activation tensor.
inline Tensor linear_new(Backend& be, const Tensor& x, const Tensor& w, const Tensor* bias = nullptr) {
  return linear_new(be, x, w, bias, be.act_dtype());
}

// h += down(silu(gate(x)) * up(x)) through the backend's ops: the SwiGLU MLP of dense layers and
// shared experts. x [T, D] in act dtype; the down product adds into the residual h with
// linear_add (on CUDA inside the product, in fp32: no bf16 rounding of the MLP's output).
void swiglu_add(Backend& be, const Tensor& x, const ExpertWeights& w, Tensor& h);

// "cpu" or "cuda" (when built with FOLIO_CUDA and a device is present). Throws kUnavailable.
std::unique_ptr<Backend> make_backend(const std::string& device);

}  // namespace folio
