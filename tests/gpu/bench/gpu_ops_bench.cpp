// Micro-benchmark of the CUDA backend's hot ops at DeepSeek-OCR shapes: linear at decode/prefill
// row counts, attention (SAM, CLIP, prefill, decode) and the MoE. One JSON object per line:
// microseconds per call measured host-side over back-to-back calls (launch overhead included,
// no CUDA graphs), with the achieved TFLOP/s and weight-read GB/s where they mean something.
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <functional>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/bf16.h"

namespace folio {
std::unique_ptr<Backend> make_cuda_backend();
namespace cuda {
const char* moe_gemm_path();
}
}  // namespace folio

using namespace folio;

namespace {

Tensor random_dev(Backend& be, const Shape& shape, float amp, uint32_t seed) {
  Tensor h = Tensor::empty(shape, DType::kBF16);
  uint32_t s = seed * 2654435761u + 1;
  for (int64_t i = 0; i < h.numel(); ++i) {
    s = s * 1664525u + 1013904223u;
    h.data<uint16_t>()[i] = f32_to_bf16(amp * ((s >> 8) * (1.f / 16777216.f) * 2.f - 1.f));
  }
  return be.to_device(h);
}

double time_us(Backend& be, const std::function<void()>& f) {
  for (int i = 0; i < 3; ++i) f();
  be.synchronize();
  int reps = 10;
  for (;;) {
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < reps; ++i) f();
    be.synchronize();
    const double us = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - t0).count();
    if (us > 2e5 || reps >= 10000) return us / reps;
    reps *= 4;
  }
}

}  // namespace

// usage: folio_gpu_bench [OP]: all sections, or only the one whose op name is OP.
int main(int argc, char** argv) {
  const std::string only = argc > 1 ? argv[1] : "";
  auto want = [&](const char* op) { return only.empty() || only == op; };
  std::unique_ptr<Backend> be;
  try {
    be = make_cuda_backend();
  } catch (const std::exception& e) {
    std::printf("{\"skipped\": \"%s\"}\n", e.what());
    return 0;
  }
  Backend& b = *be;
  for (int64_t N : {1280, 6848}) {
    if (!want("linear")) break;
    const int64_t K = 1280;
    Tensor w = random_dev(b, {N, K}, 0.03f, 1);
    for (int64_t M : {1, 8, 32, 64, 128, 256, 1024}) {
      Tensor x = random_dev(b, {M, K}, 1.f, 2), y = b.empty({M, N}, DType::kBF16);
      const double us = time_us(b, [&] { b.linear(x, w, nullptr, y); });
      std::printf("{\"op\": \"linear\", \"M\": %lld, \"K\": %lld, \"N\": %lld, \"us\": %.2f, \"tflops\": %.2f, "
                  "\"weight_gbps\": %.0f}\n",
                  (long long)M, (long long)K, (long long)N, us, 2.0 * M * N * K / us * 1e-6, 2.0 * N * K / us * 1e-3);
    }
  }
  struct A {
    const char* name;
    int B, Nq, Nk, H, D;
    bool causal;
    int grid;
  };
  for (const A& a : {A{"sam_global_rel", 1, 4096, 4096, 12, 64, false, 64}, A{"sam_global_rel_b16", 16, 4096, 4096, 12, 64, false, 64},
                     A{"sam_window_rel", 25, 196, 196, 12, 64, false, 14}, A{"sam_window_rel_b16", 400, 196, 196, 12, 64, false, 14},
                     A{"sam_tile_rel", 6, 1600, 1600, 12, 64, false, 40},
                     A{"clip", 1, 257, 257, 16, 64, false, 0}, A{"prefill_causal", 1, 300, 300, 10, 128, true, 0},
                     A{"decode", 1, 1, 1000, 10, 128, true, 0}, A{"decode_batch64", 64, 1, 1000, 10, 128, true, 0}}) {
    if (!want("attention")) break;
    const int HD = a.H * a.D;
    Tensor q = random_dev(b, {a.B, a.Nq, HD}, 1.f, 3), k = random_dev(b, {a.B, a.Nk, HD}, 1.f, 4),
           v = random_dev(b, {a.B, a.Nk, HD}, 1.f, 5), o = b.empty({a.B, a.Nq, HD}, DType::kBF16);
    AttentionSpec spec;
    spec.heads = a.H;
    spec.head_dim = a.D;
    spec.scale = 1.f / std::sqrt(float(a.D));
    spec.causal = a.causal;
    if (a.grid) {
      spec.rel_pos_h = random_dev(b, {2 * a.grid - 1, a.D}, 0.1f, 6);
      spec.rel_pos_w = random_dev(b, {2 * a.grid - 1, a.D}, 0.1f, 7);
      spec.grid_h = spec.grid_w = a.grid;
    }
    const double us = time_us(b, [&] { b.attention(q, k, v, o, spec); });
    const double pairs = a.causal && a.Nq == a.Nk ? 0.5 * a.Nq * a.Nk : double(a.Nq) * a.Nk;
    const double flops = 4.0 * a.B * a.H * a.D * pairs;
    const double bytes = 2.0 * a.B * HD * (2.0 * a.Nq + 2.0 * a.Nk);
    std::printf("{\"op\": \"attention\", \"case\": \"%s\", \"B\": %d, \"Nq\": %d, \"Nk\": %d, \"H\": %d, \"D\": %d, "
                "\"us\": %.2f, \"tflops\": %.2f, \"gbps\": %.0f}\n",
                a.name, a.B, a.Nq, a.Nk, a.H, a.D, us, flops / us * 1e-6, bytes / us * 1e-3);
  }
  // Decode attention over the paged cache at engine shapes: 10 heads x 128, 32-token blocks
  // scattered over the pool, lengths spread over 286..1286 like Base pages 0..1000 tokens in.
  // GB/s counts the keys and values read, the whole cost of the op at large batches.
  for (int B : {1, 8, 32, 128, 256, 1024}) {
    if (!want("paged_attention")) break;
    const int H = 10, D = 128, bs = 32, W = H * D;
    std::mt19937 rng(11);
    std::vector<int32_t> lens(B);
    int64_t blocks = 0, keys = 0;
    for (int& l : lens) {
      l = 286 + int(rng() % 1001);
      blocks += (l + bs - 1) / bs;
      keys += l;
    }
    const int max_blocks = (1286 + bs - 1) / bs;
    std::vector<int32_t> order(blocks);
    for (int64_t i = 0; i < blocks; ++i) order[i] = int32_t(i);
    std::shuffle(order.begin(), order.end(), rng);
    Tensor table = Tensor::empty({B, max_blocks}, DType::kI32), seq = Tensor::empty({B}, DType::kI32);
    int64_t next = 0;
    for (int r = 0; r < B; ++r) {
      seq.data<int32_t>()[r] = lens[r];
      for (int j = 0; j < max_blocks; ++j)
        table.data<int32_t>()[r * max_blocks + j] = j < (lens[r] + bs - 1) / bs ? order[next++] : 0;
    }
    Tensor q = random_dev(b, {B, W}, 1.f, 12), kp = random_dev(b, {blocks * bs, W}, 1.f, 13),
           vp = random_dev(b, {blocks * bs, W}, 1.f, 14), o = b.empty({B, W}, DType::kBF16);
    Tensor table_d = b.to_device(table), seq_d = b.to_device(seq);
    AttentionSpec spec;
    spec.heads = H;
    spec.head_dim = D;
    spec.scale = 1.f / std::sqrt(float(D));
    spec.causal = true;
    const double us = time_us(b, [&] { b.paged_attention(q, kp, vp, table_d, seq_d, bs, spec, o); });
    std::printf("{\"op\": \"paged_attention\", \"B\": %d, \"mean_len\": %.0f, \"us\": %.2f, \"kv_gbps\": %.0f}\n", B,
                double(keys) / B, us, 2.0 * 2.0 * keys * W / us * 1e-3);
  }
  if (want("moe_experts")) {
    const int64_t D = 1280, I = 896, E = 64;
    const int k = 6;
    std::vector<ExpertWeights> experts;
    for (int e = 0; e < E; ++e)
      experts.push_back({random_dev(b, {I, D}, 0.03f, 100 + e), random_dev(b, {I, D}, 0.03f, 200 + e),
                         random_dev(b, {D, I}, 0.03f, 300 + e)});
    std::mt19937 rng(9);
    for (int64_t T : {1, 8, 64, 256, 512, 1024}) {
      std::vector<int32_t> ids(T * k);
      std::vector<float> w(T * k, 0.2f);
      for (int64_t t = 0; t < T; ++t)
        for (int j = 0; j < k; ++j) ids[t * k + j] = int32_t((rng() % (E / k)) * k + j);  // distinct per token
      Tensor x = random_dev(b, {T, D}, 1.f, 8), y = b.empty({T, D}, DType::kBF16);
      const double us = time_us(b, [&] { b.moe_experts(x, ids, w, k, experts, y); });
      std::printf("{\"op\": \"moe_experts\", \"T\": %lld, \"D\": %lld, \"I\": %lld, \"E\": %lld, \"k\": %d, \"us\": %.2f, "
                  "\"path\": \"%s\"}\n",
                  (long long)T, (long long)D, (long long)I, (long long)E, k, us, cuda::moe_gemm_path());
      // The decode path: routing already on the device (no host round trip, no per-call upload).
      Tensor ids_h = Tensor::empty({T, k}, DType::kI32), w_h = Tensor::empty({T, k}, DType::kF32);
      std::copy(ids.begin(), ids.end(), ids_h.data<int32_t>());
      std::copy(w.begin(), w.end(), w_h.data<float>());
      Tensor ids_d = b.to_device(ids_h), w_d = b.to_device(w_h);
      const double us_dev = time_us(b, [&] { b.moe_experts_dev(x, ids_d, w_d, k, experts, y); });
      int64_t used = 0;
      {
        std::vector<bool> seen(E, false);
        for (int32_t e : ids) seen[e] = true;
        for (bool f : seen) used += f;
      }
      std::printf("{\"op\": \"moe_experts_dev\", \"T\": %lld, \"us\": %.2f, \"experts_used\": %lld, \"weight_gbps\": %.0f}\n",
                  (long long)T, us_dev, (long long)used, 3.0 * 2.0 * D * I * used / us_dev * 1e-3);
    }
  }
  return 0;
}
