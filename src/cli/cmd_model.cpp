// folio model random: a random checkpoint in the official layout, for benchmarks.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <filesystem>

#include "cli/command.h"
#include "core/error.h"
#include "models/deepseek_ocr/random_checkpoint.h"
#include "models/deepseek_ocr/tensor_specs.h"

namespace folio {

namespace {

struct RandomArgs {
  std::string arch = "deepseek-ocr", out, preset = "full", tokenizer;
  uint64_t seed = 0;
  int lm_layers = 0, experts = 0, sam_layers = 0, clip_layers = 0;
};

int run_random(const RandomArgs& a) {
  if (a.arch != "deepseek-ocr") throw invalid_input("unknown --arch '" + a.arch + "' (supported: deepseek-ocr)");
  DeepseekOcrConfig cfg = deepseek_ocr_preset(a.preset);
  if (a.lm_layers > 0) cfg.lm.layers = a.lm_layers;
  if (a.experts > 0) {
    cfg.lm.experts = a.experts;
    if (cfg.lm.top_k > a.experts) cfg.lm.top_k = a.experts;
  }
  if (a.sam_layers > 0) {
    cfg.sam.layers = a.sam_layers;
    std::vector<int> keep;
    for (int g : cfg.sam.global_blocks)
      if (g < a.sam_layers) keep.push_back(g);
    cfg.sam.global_blocks = keep;
  }
  if (a.clip_layers > 0) cfg.clip.layers = a.clip_layers;
  std::fprintf(stderr, "folio: writing a random %s checkpoint (%s) to %s ...\n", a.arch.c_str(), a.preset.c_str(), a.out.c_str());
  const RandomCheckpointStats st = write_random_checkpoint(cfg, a.out, a.seed);
  std::string tok = a.tokenizer;
  if (tok.empty()) tok = std::string(FOLIO_SOURCE_DIR) + "/tests/data/tokenizer/tokenizer.json";
  if (std::filesystem::exists(tok)) {
    std::filesystem::copy_file(tok, a.out + "/tokenizer.json", std::filesystem::copy_options::overwrite_existing);
  } else {
    std::fprintf(stderr, "folio: no tokenizer.json copied (pass --tokenizer PATH)\n");
  }
  std::printf("{\"tensors\": %lld, \"parameters\": %lld, \"bytes\": %lld, \"dir\": \"%s\"}\n", (long long)st.tensors,
              (long long)st.parameters, (long long)st.bytes, a.out.c_str());
  return 0;
}

}  // namespace

void add_model_command(CLI::App& app, CommandAction& action) {
  auto* model = app.add_subcommand("model", "Model folder tools");
  model->require_subcommand(1);
  auto* random = model->add_subcommand("random", "Write a random checkpoint in the official layout (for benchmarks)");
  auto a = std::make_shared<RandomArgs>();
  random->add_option("--arch", a->arch, "architecture")->capture_default_str();
  random->add_option("--out", a->out, "output folder")->required();
  random->add_option("--seed", a->seed, "random seed")->capture_default_str();
  random->add_option("--preset", a->preset, "full (published sizes) or tiny (conformance sizes)")->capture_default_str();
  random->add_option("--lm-layers", a->lm_layers, "override decoder depth");
  random->add_option("--experts", a->experts, "override routed experts per MoE layer");
  random->add_option("--sam-layers", a->sam_layers, "override SAM depth");
  random->add_option("--clip-layers", a->clip_layers, "override CLIP depth");
  random->add_option("--tokenizer", a->tokenizer, "tokenizer.json to copy into the folder");
  random->callback([a, &action] { action = [a] { return run_random(*a); }; });
}

}  // namespace folio
