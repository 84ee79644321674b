#include "cli/bench_batch.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <numeric>

#include "cli/bench_page.h"
#include "core/error.h"
#include "engine/batch_engine.h"

namespace folio {

namespace {

using Clock = std::chrono::steady_clock;
double ms_since(Clock::time_point t0) { return std::chrono::duration<double, std::milli>(Clock::now() - t0).count(); }

nlohmann::json percentiles(std::vector<double> v) {
  if (v.empty()) return nlohmann::json::object();
  std::sort(v.begin(), v.end());
  auto at = [&](double q) { return v[std::min(v.size() - 1, static_cast<size_t>(q * (v.size() - 1) + 0.5))]; };
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / v.size();
  return {{"mean", mean}, {"p50", at(0.5)}, {"p90", at(0.9)}, {"p99", at(0.99)}, {"max", v.back()}, {"n", v.size()}};
}

int64_t stat(Backend& be, const std::string& name) {
  for (const auto& [n, v] : be.memory_stats())
    if (n == name) return v;
  return 0;
}

}  // namespace

nlohmann::json bench_batch(DeepseekOcrModel& model, const BatchBenchArgs& a) {
  if (a.pages < 1 || a.concurrency < 1 || a.max_tokens < 1)
    throw invalid_input("--pages, --concurrency and --max-tokens must be at least 1");
  Backend& be = model.backend();
  const auto& cfg = model.config();
  const Image page = synthetic_page();
  ViewOptions vo;
  vo.mode = parse_mode(a.mode);
  const PageViews views = make_views(page, vo);
  const auto pixels = std::make_shared<const ViewPixels>(view_pixels(views));
  const std::vector<int32_t> prompt = synthetic_prompt(cfg, views.n_placeholders);

  // KV blocks: either what C pages need at most, or what the memory budget leaves after the
  // weights and a reserve for activations, graphs and logits.
  BatchEngineOptions eo;
  eo.max_batch = a.concurrency;
  eo.block_size = a.block_size;
  eo.graphs = a.graphs;
  eo.max_admit = a.max_admit;
  const int64_t per_seq = (static_cast<int64_t>(prompt.size()) + a.max_tokens + 2) / a.block_size + 2;
  const int64_t block_bytes = int64_t(cfg.lm.layers) * 2 * a.block_size * cfg.lm.heads * cfg.lm.head_dim *
                              static_cast<int64_t>(dtype_size(be.act_dtype()));
  nlohmann::json memory;
  if (a.gpu_memory > 0) {
    const int64_t used = stat(be, "pool_used_bytes");  // the weights, loaded before
    const int64_t reserve = int64_t(2) << 30;
    const int64_t left = a.gpu_memory - used - reserve;
    if (left < per_seq * block_bytes)
      throw invalid_input("--gpu-memory " + std::to_string(a.gpu_memory >> 20) + " MiB leaves no room for one page's " +
                          "KV cache after " + std::to_string(used >> 20) + " MiB of weights and a 2 GiB reserve");
    eo.kv_blocks = left / block_bytes;
    // Half the reserve for admission's intermediates (the rest: decode steps, graphs, logits).
    eo.admit_memory = reserve / 2;
    memory = {{"budget_bytes", a.gpu_memory}, {"weights_bytes", used}, {"reserve_bytes", reserve}};
  } else {
    eo.kv_blocks = per_seq * a.concurrency;
  }
  memory["kv_blocks"] = eo.kv_blocks;
  memory["admit_memory_bytes"] = eo.admit_memory;
  memory["kv_bytes"] = eo.kv_blocks * block_bytes;
  eo.max_context = static_cast<int>(prompt.size()) + a.max_tokens + 2;

  // A warm-up page outside the measurement (first-use plans, graphs of small buckets).
  {
    BatchEngine warm(model, eo);
    BatchRequest r;
    r.prompt = prompt;
    r.pixels = pixels;
    r.options.max_tokens = 4;
    r.ignore_eos = true;
    warm.submit(std::move(r));
    warm.run();
  }

  BatchEngine engine(model, eo);
  std::vector<double> encoder_ms, ttft_ms, tpot_ms, queue_ms, e2e_ms;
  int64_t out_tokens = 0;
  int failed = 0;
  const auto t_start = Clock::now();
  for (int i = 0; i < a.pages; ++i) {
    auto admitted = std::make_shared<Clock::time_point>();
    BatchRequest r;
    r.prompt = prompt;
    r.pixels = pixels;  // the engine encodes waiting pages in batches
    r.on_admit = [&, admitted] {
      *admitted = Clock::now();
      queue_ms.push_back(std::chrono::duration<double, std::milli>(*admitted - t_start).count());
    };
    r.on_encoded = [&](double ms) { encoder_ms.push_back(ms); };
    r.options.max_tokens = a.max_tokens;
    r.options.detect_loops = !a.ignore_eos;
    r.options.ngram.enabled = !a.ignore_eos;  // --ignore-eos: a fixed amount of work per page
    r.ignore_eos = a.ignore_eos;
    r.on_first_token = [&, admitted] { ttft_ms.push_back(ms_since(*admitted)); };
    r.on_done = [&](GenerateResult&& g) {
      if (g.reason == FinishReason::error) ++failed;
      out_tokens += static_cast<int64_t>(g.tokens.size());
      if (g.tokens.size() > 1) tpot_ms.push_back(g.decode_ms / static_cast<double>(g.tokens.size() - 1));
      e2e_ms.push_back(ms_since(t_start));
    };
    engine.submit(std::move(r));
  }
  engine.run();
  be.synchronize();
  const double wall_ms = ms_since(t_start);
  const BatchEngineStats& st = engine.stats();
  nlohmann::json out;
  out["mode"] = a.mode;
  out["pages"] = a.pages;
  out["concurrency"] = a.concurrency;
  out["max_tokens"] = a.max_tokens;
  out["ignore_eos"] = a.ignore_eos;
  out["prompt_tokens"] = prompt.size();
  out["wall_ms"] = wall_ms;
  out["pages_per_s"] = a.pages * 1000.0 / wall_ms;
  out["output_tokens"] = out_tokens;
  out["output_tokens_per_s"] = out_tokens * 1000.0 / wall_ms;
  out["failed_pages"] = failed;
  out["encoder_ms"] = percentiles(encoder_ms);  // the encoder pass of the page's admission group
  out["ttft_ms"] = percentiles(ttft_ms);  // from admission: encoder + prefill + first token (of its group)
  out["tpot_ms"] = percentiles(tpot_ms);
  out["queue_wait_ms"] = percentiles(queue_ms);
  out["engine"] = {{"steps", st.steps},           {"tokens", st.tokens},
                   {"prefills", st.prefills},     {"preemptions", st.preemptions},
                   {"graphs", st.graph_captures}, {"max_running", st.max_running},
                   {"cuda_graphs", a.graphs},     {"max_admit", a.max_admit},
                   {"admit_groups", st.admit_groups}, {"max_admit_group", st.max_admit_group},
                   {"encoder_ms_total", st.encoder_ms}, {"prefill_ms_total", st.prefill_ms}};
  out["kv_cache"] = memory;
  return out;
}

}  // namespace folio
