// folio ocr: pages of images and PDFs to text on stdout (streamed as it is generated), or one
// JSON document with --json. A page that fails is reported on that page and the exit code is
// non-zero; the other pages still run.
#include <CLI/CLI.hpp>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/command.h"
#include "core/error.h"
#include "core/file_io.h"
#include "engine/engine_factory.h"
#include "engine/result_json.h"
#include "image/io/document.h"
#include "image/io/page_ranges.h"
#include "image/view_mode.h"
#include "text/prompts.h"

namespace folio {

namespace {

struct OcrArgs {
  EngineOptions engine;
  std::string mode = "gundam", task = "document", prompt, pages;
  int max_tokens = 8192, max_tiles = 6, dpi = 144;
  bool json = false, no_ngram = false;
  int ngram_size = 30, ngram_window = 90;
  std::vector<std::string> files;
};

int run_ocr(const OcrArgs& a) {
  // Options are checked before any work so a typo fails at once, not on every page.
  parse_mode(a.mode);
  prompt_for_task(a.task, a.prompt, a.prompt);
  auto engine = make_engine(a.engine);
  nlohmann::json pages = nlohmann::json::array();
  int failures = 0;
  for (const std::string& file : a.files) {
    DocumentOptions dopt;
    dopt.dpi = a.dpi;
    auto doc = Document::open(read_file(file), file, dopt);
    std::vector<int> indices;
    if (a.pages.empty()) {
      for (int i = 0; i < doc->page_count(); ++i) indices.push_back(i);
    } else {
      indices = parse_page_ranges(a.pages, doc->page_count());
    }
    for (int index : indices) {
      PageResult r;
      try {
        PageRequest req;
        req.image = doc->render_page(index);
        req.page_index = index;
        req.mode = a.mode;
        req.task = a.task;
        req.prompt = a.prompt;
        req.max_tokens = a.max_tokens;
        req.max_tiles = a.max_tiles;
        req.ngram.enabled = !a.no_ngram;
        req.ngram.ngram_size = a.ngram_size;
        req.ngram.window = a.ngram_window;
        EngineCallbacks cb;
        if (!a.json) {
          if (doc->page_count() > 1 || a.files.size() > 1)
            std::printf("%s<!-- %s page %d -->\n", pages.empty() ? "" : "\n", file.c_str(), index + 1);
          cb.on_text = [](std::string_view piece) {
            std::fwrite(piece.data(), 1, piece.size(), stdout);
            std::fflush(stdout);
          };
        }
        r = engine->run(req, cb);
        if (!a.json && !r.raw.empty() && r.raw.back() != '\n') std::printf("\n");
        if (!a.json && r.finish_reason != "stop")
          std::fprintf(stderr, "folio: %s page %d finished by %s\n", file.c_str(), index + 1, r.finish_reason.c_str());
      } catch (const Error& e) {
        // The options were checked up front, so what fails here belongs to this page.
        r.index = index;
        r.finish_reason = "error";
        r.error = e.what();
        ++failures;
        std::fprintf(stderr, "folio: %s\n", e.what());
      }
      nlohmann::json j = page_result_json(r);
      j["file"] = file;
      pages.push_back(j);
    }
  }
  if (a.json) std::cout << nlohmann::json{{"pages", pages}}.dump(2) << "\n";
  return failures ? 1 : 0;
}

}  // namespace

void add_ocr_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("ocr", "Read images and PDFs into Markdown (stdout) or JSON");
  auto a = std::make_shared<OcrArgs>();
  cmd->add_option("--model", a->engine.model_dir, "DeepSeek-OCR model folder (without it: the Tesseract engine)");
  cmd->add_option("--engine", a->engine.engine, "auto | tesseract | deepseek-ocr")->capture_default_str();
  cmd->add_option("--device", a->engine.device, "cpu | cuda")->capture_default_str();
  cmd->add_option("--tokenizer", a->engine.tokenizer_path, "tokenizer.json to use instead of the model folder's");
  cmd->add_option("--weights", a->engine.weights, "decoder weights: bf16 (as stored) or int8 (CPU, faster decoding)")->capture_default_str();
  cmd->add_option("--encoder-weights", a->engine.encoder_weights,
                  "vision encoder weights: bf16 (as stored) or int8 (CPU with AVX512-VNNI, faster encoding)")
      ->capture_default_str();
  cmd->add_option("--mode", a->mode, "tiny | small | base | large | gundam")->capture_default_str();
  cmd->add_option("--task", a->task, "document | ocr | free | figure | describe | locate | custom")->capture_default_str();
  cmd->add_option("--prompt", a->prompt, "phrase for locate, text for custom");
  cmd->add_option("--max-tokens", a->max_tokens, "output token limit per page")->capture_default_str();
  cmd->add_option("--max-tiles", a->max_tiles, "Gundam tile limit (2..9)")->capture_default_str();
  cmd->add_option("--pages", a->pages, "page ranges, e.g. 1-3,5");
  cmd->add_option("--dpi", a->dpi, "PDF render resolution")->capture_default_str();
  cmd->add_flag("--no-ngram", a->no_ngram, "turn the repetition (n-gram) ban off");
  cmd->add_option("--ngram-size", a->ngram_size, "n-gram ban size")->capture_default_str();
  cmd->add_option("--ngram-window", a->ngram_window, "n-gram ban window")->capture_default_str();
  cmd->add_flag("--json", a->json, "print one JSON document");
  cmd->add_option("files", a->files, "images (PNG, JPEG, TIFF, WebP, BMP) or PDFs")->required();
  cmd->callback([a, &action] { action = [a] { return run_ocr(*a); }; });
}

}  // namespace folio
