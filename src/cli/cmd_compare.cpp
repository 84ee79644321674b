// folio compare: one synthetic page through the model on two backends, stage by stage.
// Answers "do CPU and CUDA agree on this (e.g. full-size random) model?": per traced stage
// rel = max|a-b| / rms(b) (b = the first device, the reference) and cosine, then the greedy
// tokens each device picks on its own. The devices run one after the other so only one copy
// of the weights is resident at a time. --encoder-weights bf16,int8 with --devices cpu,cpu
// measures the int8 vision encoder against fp32 on the same page.
#include <CLI/CLI.hpp>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <sstream>

#include "backend/backend.h"
#include "cli/bench_page.h"
#include "cli/command.h"
#include "cli/stage_error.h"
#include "core/error.h"

namespace folio {

namespace {

struct CompareArgs {
  std::string model, devices = "cpu,cuda", mode = "base", encoder_weights = "bf16,bf16";
  int tokens = 8;
};

struct DeviceRun {
  std::map<std::string, std::vector<float>> stages;
  std::vector<int32_t> tokens;
  double seconds = 0;
};

DeviceRun run_on(const std::string& device, const std::string& encoder_weights, const CompareArgs& a) {
  const auto t0 = std::chrono::steady_clock::now();
  auto be = make_backend(device);
  WeightOptions wo;
  wo.int8_encoder = encoder_weights == "int8";
  auto model = DeepseekOcrModel::load(a.model, *be, wo);
  if (const std::string note = model->encoder_int8_note(wo); !note.empty()) std::fprintf(stderr, "folio: %s\n", note.c_str());
  ViewOptions vo;
  vo.mode = parse_mode(a.mode);
  const PageViews views = make_views(synthetic_page(), vo);
  DeviceRun r;
  Trace trace = [&](const std::string& stage, const Tensor& v) { r.stages[stage] = be->download_f32(v).to_vector_f32(); };
  Tensor embeds = model->encode(view_pixels(views), trace);
  const std::vector<int32_t> prompt = synthetic_prompt(model->config(), views.n_placeholders);
  KvCache cache = model->new_cache(static_cast<int64_t>(prompt.size()) + a.tokens + 1);
  std::vector<float> logits = model->forward(cache, prompt, &embeds, trace);
  r.stages["prefill_logits"] = logits;
  for (int i = 0; i < a.tokens; ++i) {
    r.tokens.push_back(argmax(logits));
    if (i + 1 < a.tokens) logits = model->forward(cache, {r.tokens.back()}, nullptr);
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return r;
}

std::string join(const std::vector<int32_t>& v) {
  std::ostringstream o;
  for (size_t i = 0; i < v.size(); ++i) o << (i ? " " : "") << v[i];
  return o.str();
}

std::vector<std::string> split_pair(const std::string& list, const char* option, const char* example) {
  std::vector<std::string> out;
  std::stringstream ss(list);
  for (std::string d; std::getline(ss, d, ',');) out.push_back(d);
  if (out.size() != 2) throw invalid_input(std::string(option) + " '" + list + "': give exactly two, e.g. " + example);
  return out;
}

int run_compare(const CompareArgs& a) {
  const std::vector<std::string> devs = split_pair(a.devices, "--devices", "cpu,cuda");
  const std::vector<std::string> enc = split_pair(a.encoder_weights, "--encoder-weights", "bf16,int8");
  for (const std::string& e : enc)
    if (e != "bf16" && e != "int8") throw invalid_input("--encoder-weights: '" + e + "' is neither bf16 nor int8");
  if (a.tokens < 1) throw invalid_input("--tokens must be at least 1");
  std::vector<DeviceRun> runs;
  for (int i = 0; i < 2; ++i) {
    runs.push_back(run_on(devs[i], enc[i], a));
    std::printf("%s (%s encoder): %.1f s (load, encode, prefill, %d greedy steps)\n", devs[i].c_str(), enc[i].c_str(),
                runs.back().seconds, a.tokens);
  }
  std::printf("reference %s (%s encoder), compared %s (%s encoder), mode %s\n", devs[0].c_str(), enc[0].c_str(),
              devs[1].c_str(), enc[1].c_str(), a.mode.c_str());
  std::printf("%-16s %-12s %-10s %-10s\n", "stage", "elements", "rel_err", "cosine");
  const char* order[] = {"sam_global", "sam_tiles", "clip_global", "clip_tiles", "proj_global", "proj_tiles",
                         "image_embeds", "lm_layer0", "lm_final_norm", "prefill_logits"};
  for (const char* stage : order) {
    auto ia = runs[0].stages.find(stage), ib = runs[1].stages.find(stage);
    if (ia == runs[0].stages.end() || ib == runs[1].stages.end()) continue;
    if (ia->second.size() != ib->second.size()) {
      std::printf("%-16s size differs: %zu vs %zu\n", stage, ia->second.size(), ib->second.size());
      continue;
    }
    const StageError e = stage_error(ib->second, ia->second);
    std::printf("%-16s %-12zu %-10.3g %-10.6f\n", stage, ia->second.size(), e.rel, e.cosine);
  }
  size_t agree = 0;
  while (agree < runs[0].tokens.size() && runs[0].tokens[agree] == runs[1].tokens[agree]) ++agree;
  std::printf("greedy %s: %s\ngreedy %s: %s\nfirst tokens agree: %zu/%zu\n", devs[0].c_str(),
              join(runs[0].tokens).c_str(), devs[1].c_str(), join(runs[1].tokens).c_str(), agree, runs[0].tokens.size());
  return 0;
}

}  // namespace

void add_compare_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("compare", "Run one synthetic page on two devices and compare every stage");
  auto a = std::make_shared<CompareArgs>();
  cmd->add_option("--model", a->model, "model folder (e.g. from `folio model random`)")->required();
  cmd->add_option("--devices", a->devices, "reference,compared")->capture_default_str();
  cmd->add_option("--mode", a->mode, "view mode of the page")->capture_default_str();
  cmd->add_option("--tokens", a->tokens, "greedy steps compared")->capture_default_str();
  cmd->add_option("--encoder-weights", a->encoder_weights, "vision encoder weights per run: bf16|int8,bf16|int8")
      ->capture_default_str();
  cmd->callback([a, &action] { action = [a] { return run_compare(*a); }; });
}

}  // namespace folio
