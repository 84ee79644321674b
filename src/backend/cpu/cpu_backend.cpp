// The CPU backend: f32 activations, weights read in their stored dtype. Exact enough to be
// the conformance reference (fp32 everywhere) and fast enough to be a product: big products
// go to OpenBLAS, few-row products to AVX-512 loops over bf16 weights, elementwise loops are
// written to vectorise.
#include <malloc.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <mutex>
#include <numeric>

#include "backend/backend.h"
#include "backend/cpu/cpu_kernels.h"
#include "backend/cpu/attention_int8.h"
#include "backend/cpu/int8_linear.h"
#include "backend/cpu/prefetch_rows.h"
#include "core/bf16.h"
#include "backend/cpu/vec_math.h"
#include "core/bf16.h"
#include "core/error.h"
#include "core/parallel.h"

namespace folio {
namespace {

int64_t rows_of(const Tensor& t) { return t.ndim() == 0 ? 1 : t.numel() / t.dim(-1); }

void expect_f32(const Tensor& t, const char* op) {
  if (t.dtype() != DType::kF32) throw internal_error(std::string(op) + ": expected f32 activations, got " + dtype_name(t.dtype()));
}

void expect_same(const Tensor& a, const Tensor& b, const char* op) {
  if (a.numel() != b.numel())
    throw internal_error(std::string(op) + ": " + shape_str(a.shape()) + " vs " + shape_str(b.shape()));
}

// Reads element i of a parameter tensor (f32/bf16/f16) as float.
inline float param_at(const Tensor& t, int64_t i) {
  switch (t.dtype()) {
    case DType::kF32: return t.data<float>()[i];
    case DType::kBF16: return bf16_to_f32(t.data<uint16_t>()[i]);
    case DType::kF16: return f16_to_f32(t.data<uint16_t>()[i]);
    default: throw internal_error(std::string("parameter of dtype ") + dtype_name(t.dtype()));
  }
}

std::vector<int32_t> ints(const Tensor& t, const char* op) {
  if (t.dtype() != DType::kI32) throw internal_error(std::string(op) + ": indices must be I32, got " + dtype_name(t.dtype()));
  return std::vector<int32_t>(t.data<int32_t>(), t.data<int32_t>() + t.numel());
}

std::vector<float> param_f32(const Tensor& t) {
  std::vector<float> v(t.numel());
  for (int64_t i = 0; i < t.numel(); ++i) v[i] = param_at(t, i);
  return v;
}

// Keeps freed activation memory in the process. An encoder pass allocates and frees blocks
// of up to a few hundred MB per op; glibc maps those (always above 32 MB) and returns them on
// free, so every op paid page faults and kernel zero-fill again (measured: 2.5 M faults and
// 13% of the CPU time of a Base + Gundam encode; 0.3 M with this). The cost: resident memory
// stays near the largest pass's peak between pages instead of dropping back.
void keep_freed_memory_in_process() {
  static std::once_flag once;
  std::call_once(once, [] {
    mallopt(M_MMAP_THRESHOLD, 1 << 30);
    mallopt(M_TRIM_THRESHOLD, 1 << 30);
  });
}

void check_linear(const Tensor& x, const Tensor& w, const Tensor& y) {
  if (rows_of(y) != rows_of(x) || y.dim(-1) != w.dim(0))
    throw internal_error("linear: output " + shape_str(y.shape()) + " for x " + shape_str(x.shape()) + " w " + shape_str(w.shape()));
}

// The bias as f32 (empty for none).
std::vector<float> bias_f32(const Tensor* bias, int64_t N) {
  if (!bias || !bias->numel()) return {};
  if (bias->numel() != N) throw internal_error("linear: bias " + shape_str(bias->shape()) + " for N=" + std::to_string(N));
  return bias->dtype() == DType::kF32 ? std::vector<float>(bias->data<float>(), bias->data<float>() + N) : param_f32(*bias);
}

class CpuBackend final : public Backend {
 public:
  CpuBackend() { keep_freed_memory_in_process(); }

  std::string name() const override { return "cpu"; }
  Device device() const override { return Device::kCPU; }
  DType act_dtype() const override { return DType::kF32; }

  Tensor empty(const Shape& shape, DType dt) override { return Tensor::empty(shape, dt); }
  Tensor to_device(const Tensor& host) override { return host; }
  Tensor to_host(const Tensor& t) override { return t; }
  Tensor upload_f32(const Tensor& host_f32) override { return host_f32.dtype() == DType::kF32 ? host_f32 : host_f32.to_f32(); }
  Tensor download_f32(const Tensor& t) override { return t.dtype() == DType::kF32 ? t : t.to_f32(); }
  void write(Tensor& dst, const Tensor& host) override {
    const bool to_bf16 = host.dtype() == DType::kF32 && dst.dtype() == DType::kBF16;
    if (dst.numel() != host.numel() || (dst.dtype() != host.dtype() && !to_bf16))
      throw internal_error("write: " + shape_str(host.shape()) + " into " + shape_str(dst.shape()));
    if (to_bf16) {
      const float* f = host.data<float>();
      uint16_t* b = dst.data<uint16_t>();
      for (int64_t i = 0; i < host.numel(); ++i) b[i] = f32_to_bf16(f[i]);
    } else if (dst.raw() != host.raw()) {
      std::memcpy(dst.raw(), host.raw(), host.nbytes());
    }
  }
  bool fast_int8_linear() const override { return cpu::have_avx512_vnni(); }

  void linear(const Tensor& x, const Tensor& w, const Tensor* bias, Tensor& y) override {
    expect_f32(x, "linear");
    const int64_t K = x.dim(-1), M = rows_of(x), N = w.dim(0);
    check_linear(x, w, y);
    const std::vector<float> b = bias_f32(bias, N);
    cpu::linear(x.data<float>(), M, K, w, b.empty() ? nullptr : b.data(), y.data<float>());
  }

  // Packed int8 weights: x quantised once for all the products (SAM's and CLIP's q, k and v).
  // The same kernel as linear() picks for them (VNNI or the portable one), so the same values.
  void linear_many(const Tensor& x, const std::vector<const Tensor*>& w, const std::vector<const Tensor*>& bias,
                   const std::vector<Tensor*>& y) override {
    const bool int8 = x.dtype() == DType::kF32 && w.size() == y.size() && w.size() == bias.size() &&
                      std::all_of(w.begin(), w.end(), [](const Tensor* t) { return t->dtype() == DType::kI8Packed; }) &&
                      std::all_of(y.begin(), y.end(), [](const Tensor* t) { return t->dtype() == DType::kF32; });
    if (!int8) return Backend::linear_many(x, w, bias, y);
    const int64_t K = x.dim(-1), M = rows_of(x);
    std::vector<std::vector<float>> biases;
    biases.reserve(w.size());  // products point into them
    std::vector<cpu::Int8Product> products;
    for (size_t i = 0; i < w.size(); ++i) {
      check_linear(x, *w[i], *y[i]);
      biases.push_back(bias_f32(bias[i], w[i]->dim(0)));
      products.push_back({w[i], biases.back().empty() ? nullptr : biases.back().data(), y[i]->data<float>()});
    }
    cpu::linear_packed_int8_many(x.data<float>(), M, K, products);
  }

  // The int8 product applies the step in its epilogue, while the outputs are still in
  // registers: no pass over a [tokens, 3072] f32 tensor for SAM's GELU, none for the residual
  // adds. Other weights take the default (the separate ops).
  void linear_then(const Tensor& x, const Tensor& w, const Tensor* bias, LinearThen then, Tensor& y) override {
    if (w.dtype() != DType::kI8Packed || !cpu::have_avx512_vnni() || y.dtype() != DType::kF32)
      return Backend::linear_then(x, w, bias, then, y);
    expect_f32(x, "linear");
    const int64_t K = x.dim(-1), M = rows_of(x), N = w.dim(0);
    check_linear(x, w, y);
    const std::vector<float> b = bias_f32(bias, N);
    const cpu::Int8Then step = then == LinearThen::kGeluErf     ? cpu::Int8Then::kGeluErf
                               : then == LinearThen::kQuickGelu ? cpu::Int8Then::kQuickGelu
                                                                : cpu::Int8Then::kAddTo;
    cpu::linear_packed_int8(x.data<float>(), M, K, w, b.empty() ? nullptr : b.data(), y.data<float>(),
                            cpu::Int8Kernel::kAuto, step);
  }

  // Fused per block of rows when both weights are packed int8 and there are enough rows for
  // the two threads to share the blocks evenly (SAM's 4096; CLIP's 257 keep the two products,
  // which split their columns instead).
  void mlp_add(const Tensor& x, const Tensor& w1, const Tensor* b1, LinearThen act, const Tensor& w2, const Tensor* b2,
               Tensor& y) override {
    const int64_t M = rows_of(x);
    if (w1.dtype() != DType::kI8Packed || w2.dtype() != DType::kI8Packed || !cpu::have_avx512_vnni() ||
        x.dtype() != DType::kF32 || y.dtype() != DType::kF32 || act == LinearThen::kAddTo || M < 512)
      return Backend::mlp_add(x, w1, b1, act, w2, b2, y);
    if (rows_of(y) != M || y.dim(-1) != w2.dim(0))
      throw internal_error("mlp_add: output " + shape_str(y.shape()) + " for x " + shape_str(x.shape()) + " w2 " +
                           shape_str(w2.shape()));
    const std::vector<float> bias1 = bias_f32(b1, w1.dim(0)), bias2 = bias_f32(b2, w2.dim(0));
    cpu::mlp_packed_int8(x.data<float>(), M, x.dim(-1), w1, bias1.empty() ? nullptr : bias1.data(),
                         act == LinearThen::kGeluErf ? cpu::Int8Then::kGeluErf : cpu::Int8Then::kQuickGelu, w2,
                         bias2.empty() ? nullptr : bias2.data(), y.data<float>());
  }

  void layer_norm(const Tensor& x, const Tensor& w, const Tensor& b, float eps, Tensor& y) override {
    expect_f32(x, "layer_norm");
    expect_same(x, y, "layer_norm");
    const int64_t D = x.dim(-1), M = rows_of(x);
    const std::vector<float> wf = param_f32(w), bf = param_f32(b);
    const int64_t ahead = cpu::rows_ahead(D);  // the residual stream comes from memory
    parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xi = x.data<float>() + r * D;
        float* yi = y.data<float>() + r * D;
        if (r + ahead < r1) cpu::prefetch_row(xi + ahead * D, D);
        double mean, var;
        cpu::mean_var_f64(xi, D, mean, var);
        const float inv = static_cast<float>(1.0 / std::sqrt(var + eps));
        const float m = static_cast<float>(mean);
        for (int64_t i = 0; i < D; ++i) yi[i] = (xi[i] - m) * inv * wf[i] + bf[i];
      }
    });
  }

  void rms_norm(const Tensor& x, const Tensor& w, float eps, Tensor& y) override {
    expect_f32(x, "rms_norm");
    expect_same(x, y, "rms_norm");
    const int64_t D = x.dim(-1), M = rows_of(x);
    const std::vector<float> wf = param_f32(w);
    parallel_for(M, 16, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const float* xi = x.data<float>() + r * D;
        float* yi = y.data<float>() + r * D;
        double ss = 0;
        for (int64_t i = 0; i < D; ++i) ss += static_cast<double>(xi[i]) * xi[i];
        const float inv = static_cast<float>(1.0 / std::sqrt(ss / D + eps));
        for (int64_t i = 0; i < D; ++i) yi[i] = wf[i] * (xi[i] * inv);
      }
    });
  }

  void add(const Tensor& a, const Tensor& b, Tensor& y) override {
    expect_same(a, b, "add");
    expect_same(a, y, "add");
    const float* pa = a.data<float>();
    const float* pb = b.data<float>();
    float* py = y.data<float>();
    parallel_for(a.numel(), 1 << 16, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) py[i] = pa[i] + pb[i];
    });
  }

  void add_broadcast(Tensor& x, const Tensor& p) override {
    const int64_t block = p.numel();
    if (block == 0 || x.numel() % block != 0)
      throw internal_error("add_broadcast: " + shape_str(x.shape()) + " += " + shape_str(p.shape()));
    const std::vector<float> pf = param_f32(p);
    float* px = x.data<float>();
    for (int64_t o = 0; o < x.numel(); o += block)
      for (int64_t i = 0; i < block; ++i) px[o + i] += pf[i];
  }

  void gelu_erf(Tensor& x) override {
    map_inplace(x, cpu::gelu_erf8, [](float v) { return 0.5f * v * (1.0f + cpu::fast_erf(v * 0.70710678118654752f)); });
  }

  void quick_gelu(Tensor& x) override {
    map_inplace(x, [](__m256 v) { return cpu::x_sigmoid8(v, 1.702f); },
                [](float v) { return v / (1.0f + cpu::fast_exp(-1.702f * v)); });
  }

  void silu_mul(const Tensor& gate, const Tensor& up, Tensor& y) override {
    expect_same(gate, up, "silu_mul");
    expect_same(gate, y, "silu_mul");
    const float* g = gate.data<float>();
    const float* u = up.data<float>();
    float* py = y.data<float>();
    parallel_for(gate.numel(), 1 << 15, [&](int64_t i0, int64_t i1) {
      int64_t i = i0;
      for (; i + 8 <= i1; i += 8)
        _mm256_storeu_ps(py + i, _mm256_mul_ps(cpu::x_sigmoid8(_mm256_loadu_ps(g + i), 1.0f), _mm256_loadu_ps(u + i)));
      for (; i < i1; ++i) py[i] = g[i] / (1.0f + cpu::fast_exp(-g[i])) * u[i];
    });
  }

  // The int8 attention (products on vpdpbusd) for the vision encoder's int8 mode; fp32 otherwise.
  static bool int8_attention(const AttentionSpec& spec) {
    return spec.int8 && cpu::have_avx512_vnni() && spec.head_dim % 16 == 0;
  }

  void attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) override {
    if (int8_attention(spec)) return cpu::attention_int8(q, k, v, out, spec);
    cpu::attention(q, k, v, out, spec);
  }

  void window_attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) override {
    if (int8_attention(spec)) return cpu::window_attention_int8(q, k, v, out, spec);
    Backend::window_attention(q, k, v, out, spec);
  }
  bool window_attention_in_place(const AttentionSpec& spec) const override { return int8_attention(spec); }

  void rope_neox(Tensor& x, const std::vector<int32_t>& positions, int heads, int head_dim, float theta) override {
    const int64_t T = rows_of(x);
    if (static_cast<int64_t>(positions.size()) != T || x.dim(-1) != static_cast<int64_t>(heads) * head_dim)
      throw internal_error("rope_neox: " + shape_str(x.shape()) + " with " + std::to_string(positions.size()) + " positions");
    const int half = head_dim / 2;
    std::vector<float> inv_freq(half);
    for (int i = 0; i < half; ++i)
      inv_freq[i] = static_cast<float>(1.0 / std::pow(static_cast<double>(theta), 2.0 * i / head_dim));
    float* px = x.data<float>();
    parallel_for(T, 8, [&](int64_t t0, int64_t t1) {
      std::vector<float> c(half), s(half);
      for (int64_t t = t0; t < t1; ++t) {
        for (int i = 0; i < half; ++i) {
          // Angles in fp32 like the reference (positions * inv_freq in float).
          const float ang = static_cast<float>(positions[t]) * inv_freq[i];
          c[i] = std::cos(ang);
          s[i] = std::sin(ang);
        }
        for (int h = 0; h < heads; ++h) {
          float* v = px + t * heads * head_dim + h * head_dim;
          for (int i = 0; i < half; ++i) {
            const float a = v[i], b = v[i + half];
            v[i] = a * c[i] - b * s[i];
            v[i + half] = b * c[i] + a * s[i];
          }
        }
      }
    });
  }

  void gather_rows(const Tensor& src, const std::vector<int32_t>& index, Tensor& dst) override {
    const int64_t C = src.dim(-1), R = rows_of(src);
    if (dst.dim(-1) != C || rows_of(dst) != static_cast<int64_t>(index.size()))
      throw internal_error("gather_rows: " + shape_str(src.shape()) + " -> " + shape_str(dst.shape()));
    float* out = dst.data<float>();
    parallel_for(static_cast<int64_t>(index.size()), 64, [&](int64_t i0, int64_t i1) {
      for (int64_t i = i0; i < i1; ++i) {
        float* o = out + i * C;
        const int64_t r = index[i];
        if (r < 0) {
          std::fill(o, o + C, 0.0f);
          continue;
        }
        if (r >= R) throw internal_error("gather_rows: index " + std::to_string(r) + " >= " + std::to_string(R));
        if (src.dtype() == DType::kF32) {
          std::memcpy(o, src.data<float>() + r * C, C * 4);
        } else {
          for (int64_t c = 0; c < C; ++c) o[c] = param_at(src, r * C + c);
        }
      }
    });
  }

  void concat_cols(const Tensor& a, const Tensor& b, Tensor& y) override {
    const int64_t M = rows_of(a), Ca = a.dim(-1), Cb = b.dim(-1);
    if (rows_of(b) != M || rows_of(y) != M || y.dim(-1) != Ca + Cb) throw internal_error("concat_cols: shapes do not fit");
    for (int64_t m = 0; m < M; ++m) {
      std::memcpy(y.data<float>() + m * (Ca + Cb), a.data<float>() + m * Ca, Ca * 4);
      std::memcpy(y.data<float>() + m * (Ca + Cb) + Ca, b.data<float>() + m * Cb, Cb * 4);
    }
  }

  void im2col(const Tensor& x, int kernel, int stride, int pad, Tensor& cols) override {
    const int64_t B = x.dim(0), H = x.dim(1), W = x.dim(2), C = x.dim(3);
    const int64_t Ho = (H + 2 * pad - kernel) / stride + 1, Wo = (W + 2 * pad - kernel) / stride + 1;
    const int64_t KK = static_cast<int64_t>(kernel) * kernel;
    if (rows_of(cols) != B * Ho * Wo || cols.dim(-1) != C * KK)
      throw internal_error("im2col: output " + shape_str(cols.shape()) + " for input " + shape_str(x.shape()));
    const float* px = x.data<float>();
    float* pc = cols.data<float>();
    parallel_for(B * Ho, 1, [&](int64_t r0, int64_t r1) {
      for (int64_t r = r0; r < r1; ++r) {
        const int64_t b = r / Ho, oy = r % Ho;
        for (int64_t ox = 0; ox < Wo; ++ox) {
          float* dst = pc + ((b * Ho + oy) * Wo + ox) * C * KK;
          for (int ky = 0; ky < kernel; ++ky) {
            const int64_t iy = oy * stride - pad + ky;
            for (int kx = 0; kx < kernel; ++kx) {
              const int64_t ix = ox * stride - pad + kx;
              const bool inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
              const float* src = px + ((b * H + iy) * W + ix) * C;
              for (int64_t c = 0; c < C; ++c) dst[c * KK + ky * kernel + kx] = inside ? src[c] : 0.0f;
            }
          }
        }
      }
    });
  }

  void router_topk(const Tensor& logits, int k, float scale, std::vector<int32_t>& ids, std::vector<float>& weights) override {
    const int64_t T = rows_of(logits), E = logits.dim(-1);
    ids.assign(T * k, 0);
    weights.assign(T * k, 0.0f);
    std::vector<float> p(E);
    std::vector<int32_t> order(E);
    for (int64_t t = 0; t < T; ++t) {
      const float* l = logits.data<float>() + t * E;
      const float mx = *std::max_element(l, l + E);
      float sum = 0;
      for (int64_t e = 0; e < E; ++e) sum += (p[e] = std::exp(l[e] - mx));
      for (int64_t e = 0; e < E; ++e) p[e] /= sum;
      std::iota(order.begin(), order.end(), 0);
      std::partial_sort(order.begin(), order.begin() + k, order.end(),
                        [&](int32_t a, int32_t b) { return p[a] > p[b] || (p[a] == p[b] && a < b); });
      for (int j = 0; j < k; ++j) {
        ids[t * k + j] = order[j];
        weights[t * k + j] = p[order[j]] * scale;
      }
    }
  }

  void moe_experts(const Tensor& x, const std::vector<int32_t>& ids, const std::vector<float>& weights, int k,
                   const std::vector<ExpertWeights>& experts, Tensor& y) override {
    const int64_t T = rows_of(x), D = x.dim(-1);
    std::fill(y.data<float>(), y.data<float>() + y.numel(), 0.0f);
    // Group the (token, slot) pairs by expert so each expert runs one product over its tokens.
    std::vector<std::vector<int64_t>> members(experts.size());
    for (int64_t t = 0; t < T; ++t)
      for (int j = 0; j < k; ++j) members.at(ids[t * k + j]).push_back(t * k + j);
    for (size_t e = 0; e < experts.size(); ++e) {
      if (members[e].empty()) continue;
      const int64_t n = static_cast<int64_t>(members[e].size());
      const int64_t I = experts[e].gate.dim(0);
      Tensor xe = Tensor::empty({n, D}, DType::kF32);
      for (int64_t i = 0; i < n; ++i)
        std::memcpy(xe.data<float>() + i * D, x.data<float>() + (members[e][i] / k) * D, D * 4);
      Tensor g = Tensor::empty({n, I}, DType::kF32), u = Tensor::empty({n, I}, DType::kF32);
      linear(xe, experts[e].gate, nullptr, g);
      linear(xe, experts[e].up, nullptr, u);
      silu_mul(g, u, g);
      Tensor o = Tensor::empty({n, D}, DType::kF32);
      linear(g, experts[e].down, nullptr, o);
      for (int64_t i = 0; i < n; ++i) {
        const int64_t slot = members[e][i];
        const float wgt = weights[slot];
        float* dst = y.data<float>() + (slot / k) * D;
        const float* src = o.data<float>() + i * D;
        for (int64_t c = 0; c < D; ++c) dst[c] += wgt * src[c];
      }
    }
  }

  void cast_f32(const Tensor& x, Tensor& y) override {
    expect_same(x, y, "cast_f32");
    std::memcpy(y.data<float>(), x.data<float>(), x.numel() * 4);
  }

  // Batched decoding: index tensors are host I32 here, so the device-index ops reuse the
  // host-index ones.
  void gather_rows_dev(const Tensor& src, const Tensor& index, Tensor& dst) override {
    gather_rows(src, ints(index, "gather_rows_dev"), dst);
  }
  void rope_neox_dev(Tensor& x, const Tensor& positions, int heads, int head_dim, float theta) override {
    rope_neox(x, ints(positions, "rope_neox_dev"), heads, head_dim, theta);
  }
  void kv_store(const Tensor& k, const Tensor& v, const Tensor& slots, Tensor& k_pool, Tensor& v_pool) override {
    cpu::kv_store(k, v, slots, k_pool, v_pool);
  }
  void paged_attention(const Tensor& q, const Tensor& k_pool, const Tensor& v_pool, const Tensor& block_table,
                       const Tensor& seq_lens, int block_size, const AttentionSpec& spec, Tensor& out) override {
    cpu::paged_attention(q, k_pool, v_pool, block_table, seq_lens, block_size, spec, out);
  }
  void router_topk_dev(const Tensor& logits, int k, float scale, bool renormalise, Tensor& ids,
                       Tensor& weights) override {
    std::vector<int32_t> i;
    std::vector<float> w;
    router_topk(logits, k, scale, i, w);
    if (renormalise)
      for (size_t t = 0; t < w.size(); t += k) {
        float s = 1e-20f;
        for (int j = 0; j < k; ++j) s += w[t + j];
        for (int j = 0; j < k; ++j) w[t + j] /= s;
      }
    if (ids.numel() != int64_t(i.size()) || weights.numel() != int64_t(w.size()) || ids.dtype() != DType::kI32 ||
        weights.dtype() != DType::kF32)
      throw internal_error("router_topk_dev: ids " + shape_str(ids.shape()) + ", weights " + shape_str(weights.shape()));
    std::copy(i.begin(), i.end(), ids.data<int32_t>());
    std::copy(w.begin(), w.end(), weights.data<float>());
  }
  void moe_experts_dev(const Tensor& x, const Tensor& ids, const Tensor& weights, int k,
                       const std::vector<ExpertWeights>& experts, Tensor& y) override {
    const std::vector<float> w(weights.data<float>(), weights.data<float>() + weights.numel());
    moe_experts(x, ints(ids, "moe_experts_dev"), w, k, experts, y);
  }
  void greedy_next(const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                   const Tensor& window, const Tensor& whitelist, Tensor& next) override {
    cpu::greedy_next(logits, history, history_len, ngram, window, whitelist, next);
  }
  void advance_positions(Tensor& positions, Tensor& seq_lens, Tensor& slots, const Tensor& block_table,
                         int block_size) override {
    cpu::advance_positions(positions, seq_lens, slots, block_table, block_size);
  }

  // Nothing to record on the CPU: each replay runs the body (capture itself runs nothing, as
  // on the GPU).
  class Rerun final : public Replay {
   public:
    explicit Rerun(std::function<void()> body) : body_(std::move(body)) {}
    void replay() override { body_(); }

   private:
    std::function<void()> body_;
  };
  std::unique_ptr<Replay> capture(const std::function<void()>& body) override {
    return std::make_unique<Rerun>(body);
  }

 private:
  template <class Vec, class Scalar>
  void map_inplace(Tensor& x, Vec vec, Scalar scalar) {
    expect_f32(x, "activation");
    float* p = x.data<float>();
    parallel_for(x.numel(), 1 << 15, [&](int64_t i0, int64_t i1) { cpu::map8(p + i0, i1 - i0, vec, scalar); });
  }
};

}  // namespace

std::unique_ptr<Backend> make_cpu_backend() { return std::make_unique<CpuBackend>(); }

}  // namespace folio
