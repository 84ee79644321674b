// folio bench: speed figures of the model on one device, printed as JSON. Pages are
// synthetic A4 scans (dark text-like strokes on white) so the run needs no data files.
#include <sys/resource.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <numeric>

#include "backend/backend.h"
#include "cli/command.h"
#include "core/error.h"
#include "core/parallel.h"
#include "cli/bench_batch.h"
#include "cli/bench_page.h"
#include "image/views.h"
#include "models/deepseek_ocr/model.h"

namespace folio {

namespace {

struct BenchArgs {
  std::string device = "cpu", model, mode = "base", weights = "bf16", encoder_weights = "bf16";
  int pages = 2, max_tokens = 32, concurrency = 1, threads = 0;
  bool ignore_eos = true, json = true;
  std::vector<std::string> stages{"encoder", "decode"};  // decode includes the prefill
  bool batch = false;        // --concurrency given: the continuous-batching engine
  bool no_graphs = false;
  int max_admit = 16;        // requests the batching engine admits together
  std::string gpu_memory;    // e.g. 16GB
};

// "16GB", "16GiB", "800MB", "1.5G" -> bytes (powers of 1024, as GPU tools print them).
int64_t parse_bytes(const std::string& s) {
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(s, &used);
  } catch (...) {
    throw invalid_input("--gpu-memory '" + s + "': expected a size such as 16GB");
  }
  std::string unit = s.substr(used);
  for (char& c : unit) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  double mul = 1;
  if (unit == "G" || unit == "GB" || unit == "GIB") mul = 1024.0 * 1024 * 1024;
  else if (unit == "M" || unit == "MB" || unit == "MIB") mul = 1024.0 * 1024;
  else if (!unit.empty() && unit != "B") throw invalid_input("--gpu-memory '" + s + "': unknown unit '" + unit + "'");
  if (v <= 0) throw invalid_input("--gpu-memory must be positive");
  return static_cast<int64_t>(v * mul);
}

double now_ms() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

// CPU time of the whole process (all threads): on a shared machine it varies far less than
// wall time, which depends on what else runs on the cores.
double cpu_ms() {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  return (ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

nlohmann::json stats(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const double mean = std::accumulate(v.begin(), v.end(), 0.0) / std::max<size_t>(1, v.size());
  return {{"mean", mean}, {"min", v.front()}, {"p50", v[v.size() / 2]}, {"max", v.back()}, {"n", v.size()}};
}

// Encoder time for `pages` pages of a mode (one warm-up page first).
nlohmann::json bench_encoder(DeepseekOcrModel& m, const std::string& mode, int pages, const Image& page) {
  ViewOptions vo;
  vo.mode = parse_mode(mode);
  const PageViews views = make_views(page, vo);
  const ViewPixels px = view_pixels(views);
  m.encode(px);
  m.backend().synchronize();
  std::vector<double> ms, cpu;
  for (int i = 0; i < pages; ++i) {
    const double t0 = now_ms(), c0 = cpu_ms();
    m.encode(px);
    m.backend().synchronize();
    ms.push_back(now_ms() - t0);
    cpu.push_back(cpu_ms() - c0);
  }
  return {{"mode", mode},         {"views", 1 + views.tiles.size()}, {"image_tokens", views.n_placeholders},
          {"ms", stats(ms)}, {"cpu_ms", stats(cpu)}};
}

int print_result(nlohmann::json& out, Backend& be, int concurrency) {
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  out["peak_rss_bytes"] = static_cast<int64_t>(ru.ru_maxrss) * 1024;
  out["concurrency"] = concurrency;
  // The backend's own memory (device pool on cuda; nothing on cpu, where RSS is the figure).
  nlohmann::json mem = nlohmann::json::object();
  for (const auto& [name, bytes] : be.memory_stats()) mem[name] = bytes;
  if (!mem.empty()) out["device_memory"] = mem;
  std::printf("%s\n", out.dump(2).c_str());
  return 0;
}

int run_bench(const BenchArgs& a) {
  if (a.threads > 0) set_num_threads(a.threads);
  auto be = make_backend(a.device);
  const double t_load = now_ms();
  if (a.weights != "bf16" && a.weights != "int8") throw invalid_input("--weights must be bf16 or int8");
  if (a.encoder_weights != "bf16" && a.encoder_weights != "int8")
    throw invalid_input("--encoder-weights must be bf16 or int8");
  WeightOptions wo;
  wo.int8_decoder = a.weights == "int8";
  wo.int8_encoder = a.encoder_weights == "int8";
  auto model = DeepseekOcrModel::load(a.model, *be, wo);
  if (const std::string note = model->encoder_int8_note(wo); !note.empty()) std::fprintf(stderr, "folio: %s\n", note.c_str());
  const double load_ms = now_ms() - t_load;
  const Image page = synthetic_page();

  nlohmann::json out;
  out["device"] = a.device;
  out["threads"] = num_threads();
  out["model"] = a.model;
  out["decoder_weights"] = a.weights;
  out["encoder_weights"] = model->encoder_int8() ? "int8" : "bf16";
  out["load_ms"] = load_ms;
  auto wants = [&](const char* stage) { return std::find(a.stages.begin(), a.stages.end(), stage) != a.stages.end(); };
  if (wants("encoder")) {
    out["encoder"] = nlohmann::json::array();
    out["encoder"].push_back(bench_encoder(*model, a.mode, a.pages, page));
    if (a.mode != "gundam") out["encoder"].push_back(bench_encoder(*model, "gundam", a.pages, page));
  }
  if (a.batch) {
    BatchBenchArgs ba;
    ba.mode = a.mode;
    ba.pages = a.pages;
    ba.concurrency = a.concurrency;
    ba.max_tokens = a.max_tokens;
    ba.ignore_eos = a.ignore_eos;
    ba.graphs = !a.no_graphs;
    ba.max_admit = a.max_admit;
    if (!a.gpu_memory.empty()) ba.gpu_memory = parse_bytes(a.gpu_memory);
    out["batch"] = bench_batch(*model, ba);
  }
  if (!wants("decode")) return print_result(out, *be, a.concurrency);

  // Prefill and decode on the mode's page: the document prompt's token count, image rows
  // from the encoder.
  ViewOptions vo;
  vo.mode = parse_mode(a.mode);
  const PageViews views = make_views(page, vo);
  Tensor embeds = model->encode(view_pixels(views));
  const std::vector<int32_t> prompt = synthetic_prompt(model->config(), views.n_placeholders);

  std::vector<double> prefill_ms, tok_per_s, ms_per_tok;
  for (int i = 0; i < a.pages; ++i) {
    KvCache cache = model->new_cache(static_cast<int64_t>(prompt.size()) + a.max_tokens + 1);
    double t0 = now_ms();
    std::vector<float> logits = model->forward(cache, prompt, &embeds);
    be->synchronize();
    prefill_ms.push_back(now_ms() - t0);
    t0 = now_ms();
    for (int s = 0; s < a.max_tokens; ++s) {
      if (a.ignore_eos) logits[model->config().lm.eos] = -INFINITY;
      const int32_t tok = argmax(logits);
      logits = model->forward(cache, {tok}, nullptr);
    }
    be->synchronize();
    const double dt = now_ms() - t0;
    ms_per_tok.push_back(dt / a.max_tokens);
    tok_per_s.push_back(a.max_tokens * 1000.0 / dt);
  }
  out["prefill"] = {{"tokens", prompt.size()}, {"ms", stats(prefill_ms)}};
  out["decode"] = {{"tokens_per_page", a.max_tokens}, {"tokens_per_s", stats(tok_per_s)}, {"ms_per_token", stats(ms_per_tok)}};
  return print_result(out, *be, a.concurrency);
}

}  // namespace

void add_bench_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("bench", "Measure encoder, prefill and decode speed; prints JSON");
  auto a = std::make_shared<BenchArgs>();
  cmd->add_option("--device", a->device, "cpu | cuda")->capture_default_str();
  cmd->add_option("--model", a->model, "model folder (e.g. from `folio model random`)")->required();
  cmd->add_option("--mode", a->mode, "view mode of the pages")->capture_default_str();
  cmd->add_option("--pages", a->pages, "measured pages (after one warm-up)")->capture_default_str();
  cmd->add_option("--max-tokens", a->max_tokens, "decode steps per page")->capture_default_str();
  cmd->add_option("--concurrency", a->concurrency,
                  "pages decoded together by the batching engine (given: N pages go through it)")
      ->capture_default_str()
      ->each([a](const std::string&) { a->batch = true; });
  cmd->add_option("--gpu-memory", a->gpu_memory, "device memory budget for weights + KV cache (e.g. 16GB)");
  cmd->add_option("--max-admit", a->max_admit,
                  "requests the batching engine encodes and prefills together")->capture_default_str();
  cmd->add_flag("--no-graphs", a->no_graphs, "run decode steps op by op instead of replaying CUDA graphs");
  cmd->add_option("--threads", a->threads, "CPU threads (default: all cores)");
  cmd->add_option("--weights", a->weights, "decoder weights: bf16 (as stored) or int8 (CPU)")->capture_default_str();
  cmd->add_option("--encoder-weights", a->encoder_weights,
                  "vision encoder weights: bf16 (as stored, fp32 products) or int8 (CPU with AVX512-VNNI)")
      ->capture_default_str();
  cmd->add_flag("--ignore-eos,!--stop-at-eos", a->ignore_eos, "decode max-tokens steps even past EOS")->capture_default_str();
  cmd->add_option("--stages", a->stages, "what to measure: encoder, decode (prefill + decode)")->capture_default_str();
  cmd->add_flag("--json", a->json, "JSON output (the only format)");
  cmd->callback([a, &action] { action = [a] { return run_bench(*a); }; });
}

}  // namespace folio
