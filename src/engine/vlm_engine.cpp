#include "engine/vlm_engine.h"

#include <chrono>
#include <cstdio>
#include <filesystem>

#include "core/error.h"
#include "engine/generate.h"
#include "image/views.h"
#include "text/grounding.h"
#include "text/markdown.h"
#include "text/prompts.h"
#include "text/stream_decoder.h"

namespace folio {

namespace {

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

VlmEngine::VlmEngine(const EngineOptions& options) : device_(options.device) {
  const std::string& model_dir = options.model_dir;
  const std::string tok = options.tokenizer_path.empty() ? model_dir + "/tokenizer.json" : options.tokenizer_path;
  if (!std::filesystem::exists(tok))
    throw not_found(tok + ": missing (a DeepSeek-OCR folder ships tokenizer.json; pass --tokenizer to use another)");
  tokenizer_ = std::make_unique<Tokenizer>(Tokenizer::from_file(tok));
  if (options.weights != "bf16" && options.weights != "int8")
    throw invalid_input("weights '" + options.weights + "': expected bf16 or int8");
  if (options.encoder_weights != "bf16" && options.encoder_weights != "int8")
    throw invalid_input("encoder weights '" + options.encoder_weights + "': expected bf16 or int8");
  WeightOptions wo;
  wo.int8_decoder = options.weights == "int8";
  wo.int8_encoder = options.encoder_weights == "int8";
  backend_ = make_backend(options.device);
  model_ = DeepseekOcrModel::load(model_dir, *backend_, wo);
  // Not an error: the page is still read, with the stored (fp32-product) encoder.
  if (const std::string note = model_->encoder_int8_note(wo); !note.empty()) std::fprintf(stderr, "folio: %s\n", note.c_str());
}

EngineInfo VlmEngine::info() const {
  EngineInfo i;
  i.engine = "deepseek-ocr";
  i.model = model_->dir();
  i.device = device_;
  return i;
}

PageResult VlmEngine::run(const PageRequest& req, const EngineCallbacks& cb) {
  const auto t_start = std::chrono::steady_clock::now();
  PageResult out;
  out.index = req.page_index;
  if (req.image.empty()) throw invalid_input("page " + std::to_string(req.page_index + 1) + ": empty image");
  if (req.max_tokens < 1) throw invalid_input("max_tokens must be at least 1");
  if (req.ngram.enabled && (req.ngram.ngram_size < 1 || req.ngram.window < req.ngram.ngram_size))
    throw invalid_input("n-gram ban needs ngram_size >= 1 and window >= ngram_size");

  ViewOptions vo;
  vo.mode = parse_mode(req.mode);
  vo.max_tiles = req.max_tiles;
  const PageViews views = make_views(req.image, vo);
  const std::string prompt = prompt_for_task(req.task, req.prompt, req.prompt);
  const auto& cfg = model_->config();
  const std::vector<int32_t> ids =
      build_input_ids(*tokenizer_, prompt, views.n_placeholders, cfg.lm.bos, cfg.image_token);
  const ViewPixels pixels = view_pixels(views);
  out.timings.preprocess_ms = ms_since(t_start);

  std::lock_guard<std::mutex> lock(mu_);
  auto t0 = std::chrono::steady_clock::now();
  Tensor embeds = model_->encode(pixels);
  backend_->synchronize();
  out.timings.encode_ms = ms_since(t0);

  StreamDecoder stream(*tokenizer_);
  GenerateOptions go;
  go.max_tokens = req.max_tokens;
  go.ngram = req.ngram;
  go.cancel = cb.cancel;
  if (cb.on_text)
    go.on_token = [&](int32_t id) {
      std::string piece = stream.push(id);
      if (!piece.empty()) cb.on_text(piece);
    };
  GenerateResult g = generate(*model_, ids, &embeds, go);
  if (cb.on_text) {
    std::string tail = stream.flush();
    if (!tail.empty()) cb.on_text(tail);
  }
  out.timings.prefill_ms = g.prefill_ms;
  out.timings.decode_ms = g.decode_ms;
  out.timings.prompt_tokens = static_cast<int>(ids.size());
  out.timings.output_tokens = static_cast<int>(g.tokens.size());

  out.raw = strip_eos(tokenizer_->decode(g.tokens));
  const MarkdownPage md = assemble_markdown(out.raw, req.image.width, req.image.height, req.page_index);
  out.markdown = md.markdown;
  out.text = plain_text(out.raw);
  out.blocks = parse_grounding(out.raw, req.image.width, req.image.height, req.page_index);
  out.finish_reason = std::string(to_string(g.reason));
  out.timings.total_ms = ms_since(t_start);
  return out;
}

std::unique_ptr<OcrEngine> make_deepseek_engine(const EngineOptions& options) {
  if (options.model_dir.empty()) throw invalid_input("the deepseek-ocr engine needs --model DIR");
  return std::make_unique<VlmEngine>(options);
}

}  // namespace folio
