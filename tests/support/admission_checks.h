// Batched admission against one page at a time, on any backend (the CPU tests and the GPU tests
// run the same checks with their own tolerance): the vision encoder's batched pass against
// per-page passes, and the batched paged prefill against the plain forward pass (logits of
// each prompt's last position and the keys/values stored at each prompt's slots).
// Pages are small (base 256, tiles 128) so that the tiny random model runs them in seconds.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "models/deepseek_ocr/model.h"
#include "support/random_data.h"

namespace folio::testing {

// max |got - want| / rms(want).
inline double relative_error(const std::vector<float>& got, const std::vector<float>& want) {
  double worst = 0, sq = 0;
  for (size_t i = 0; i < want.size(); ++i) {
    worst = std::max(worst, std::abs(double(got[i]) - want[i]));
    sq += double(want[i]) * want[i];
  }
  const double rms = std::sqrt(sq / std::max<size_t>(want.size(), 1));
  return got.size() != want.size() ? 1e9 : worst / std::max(rms, 1e-30);
}

// A page of random pixels: base view `base`, and a grid_w x grid_h grid of `tile` tiles when
// grid_w > 0.
inline ViewPixels random_page(uint32_t seed, int base = 256, int grid_w = 0, int grid_h = 0, int tile = 128) {
  ViewPixels v;
  v.base_size = base;
  v.tile_size = tile;
  v.global = randn(size_t(3) * base * base, seed, 0.5f);
  if (grid_w > 0) {
    v.grid_w = grid_w;
    v.grid_h = grid_h;
    v.tiles = randn(size_t(grid_w) * grid_h * 3 * tile * tile, seed + 1000, 0.5f);
  }
  return v;
}

inline int64_t block_rows(const ViewPixels& v) {
  return image_block_rows(v.base_size, v.tile_size, v.grid_w, v.grid_h, v.tiled());
}

// A prompt: BOS, the page's placeholders (none without a page), then `text` ids.
inline std::vector<int32_t> page_prompt(const DeepseekOcrModel& m, const ViewPixels* page, int text, int salt) {
  std::vector<int32_t> p{0};
  if (page) p.insert(p.end(), block_rows(*page), m.config().image_token);
  for (int t = 0; t < text; ++t) p.push_back(200 + 31 * salt + t);
  return p;
}

// The worst relative error of any page's block in encode_batch(pages) against encode(page).
inline double encode_batch_error(DeepseekOcrModel& m, const std::vector<const ViewPixels*>& pages) {
  Backend& be = m.backend();
  const Tensor all = m.encode_batch(pages);
  int64_t off = 0;
  double worst = 0;
  for (const ViewPixels* p : pages) {
    const int64_t rows = block_rows(*p);
    const std::vector<float> got = be.download_f32(all.rows(off, off + rows)).to_vector_f32();
    const std::vector<float> want = be.download_f32(m.encode(*p)).to_vector_f32();
    worst = std::max(worst, relative_error(got, want));
    off += rows;
  }
  return off == all.dim(0) ? worst : 1e9;
}

struct PrefillComparison {
  double logits = 0;  // worst relative error of a prompt's last-position logits
  double kv = 0;      // worst relative error of a prompt's stored keys/values (per layer)
  std::vector<int32_t> batched_argmax, single_argmax;
  std::vector<float> single_margin;  // top-1 minus top-2 logit of the single pass
  std::vector<float> single_rms;     // rms of the single pass's logits
  // Whether prompt i's greedy choice is the same, or too close to call at `tolerance` (a
  // relative error): then the two passes may differ by rounding alone.
  bool same_choice(size_t i, double tolerance) const {
    return batched_argmax[i] == single_argmax[i] || single_margin[i] <= 2 * tolerance * single_rms[i];
  }
};

// Runs `prompts` (with their image rows, or none) through prefill_paged_batch into a paged cache
// whose blocks are handed out in a scrambled order, and each prompt alone through forward().
inline PrefillComparison compare_prefill(DeepseekOcrModel& m, const std::vector<std::vector<int32_t>>& prompts,
                                         const std::vector<const Tensor*>& images, bool routing_on_device) {
  Backend& be = m.backend();
  Decoder& dec = m.decoder();
  const int block = 4;
  int64_t total = 0;
  for (const auto& p : prompts) total += static_cast<int64_t>(p.size());
  const int64_t blocks = total / block + int64_t(prompts.size()) + 1;
  PagedKvCache cache = dec.new_paged_cache(blocks, block);
  // Block b of the pool is given out as the (blocks - 1 - b)-th: prompts' slots are scattered.
  std::vector<int32_t> slot_of;
  int64_t next_block = 0;
  for (const auto& p : prompts) {
    const int64_t start = next_block;
    for (size_t t = 0; t < p.size(); ++t) {
      const int64_t b = start + int64_t(t) / block;
      slot_of.push_back(int32_t((blocks - 1 - b) * block + int64_t(t) % block));
    }
    next_block = start + (int64_t(p.size()) + block - 1) / block;
  }
  Tensor host_slots = Tensor::zeros({total}, DType::kI32);
  std::copy(slot_of.begin(), slot_of.end(), host_slots.data<int32_t>());
  Tensor slots = be.empty({total}, DType::kI32);
  be.write(slots, host_slots);
  std::vector<Decoder::PrefillSequence> seqs;
  for (size_t i = 0; i < prompts.size(); ++i) seqs.push_back({&prompts[i], images[i]});
  const std::vector<float> batched =
      dec.prefill_paged_batch(cache, slots, seqs, m.config().image_token, routing_on_device);

  PrefillComparison c;
  const size_t V = static_cast<size_t>(m.config().lm.vocab);
  const int layers = m.config().lm.layers;
  std::vector<std::vector<float>> pool_k(layers), pool_v(layers);
  for (int l = 0; l < layers; ++l) {
    pool_k[l] = be.download_f32(cache.k[l]).to_vector_f32();
    pool_v[l] = be.download_f32(cache.v[l]).to_vector_f32();
  }
  const int64_t W = cache.k[0].dim(1);
  size_t off = 0;
  for (size_t i = 0; i < prompts.size(); ++i) {
    KvCache kv = m.new_cache(static_cast<int64_t>(prompts[i].size()));
    const std::vector<float> want = m.forward(kv, prompts[i], images[i]);
    const std::vector<float> got(batched.begin() + i * V, batched.begin() + (i + 1) * V);
    c.logits = std::max(c.logits, relative_error(got, want));
    auto argmax = [](const std::vector<float>& v) { return int32_t(std::max_element(v.begin(), v.end()) - v.begin()); };
    c.batched_argmax.push_back(argmax(got));
    c.single_argmax.push_back(argmax(want));
    std::vector<float> sorted = want;
    std::partial_sort(sorted.begin(), sorted.begin() + 2, sorted.end(), std::greater<float>());
    c.single_margin.push_back(sorted[0] - sorted[1]);
    double sq = 0;
    for (float x : want) sq += double(x) * x;
    c.single_rms.push_back(float(std::sqrt(sq / want.size())));
    for (int l = 0; l < layers; ++l) {
      const std::vector<float> wk = be.download_f32(kv.k[l]).to_vector_f32(), wv = be.download_f32(kv.v[l]).to_vector_f32();
      std::vector<float> gk, gv;
      for (size_t t = 0; t < prompts[i].size(); ++t) {
        const int64_t s = slot_of[off + t];
        gk.insert(gk.end(), pool_k[l].begin() + s * W, pool_k[l].begin() + (s + 1) * W);
        gv.insert(gv.end(), pool_v[l].begin() + s * W, pool_v[l].begin() + (s + 1) * W);
      }
      c.kv = std::max({c.kv, relative_error(gk, wk), relative_error(gv, wv)});
    }
    off += prompts[i].size();
  }
  return c;
}

}  // namespace folio::testing
