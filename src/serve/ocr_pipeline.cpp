#include "serve/ocr_pipeline.h"

#include <set>

#include "core/error.h"
#include "image/io/page_ranges.h"
#include "image/view_mode.h"
#include "text/prompts.h"
#include "serve/metrics.h"
#include "serve/page_json.h"

namespace folio::serve {

void OcrOptions::validate() const {
  // The image and text layers own the names of modes and tasks; they throw the errors.
  parse_mode(mode);
  prompt_for_task(task, prompt, prompt);
  if ((task == "custom" || task == "locate") && prompt.empty())
    throw invalid_input("task \"" + task + "\" needs a prompt");
  if (dpi < 36 || dpi > 600) throw invalid_input("dpi " + std::to_string(dpi) + ": expected 36 to 600");
  if (max_tokens < 1 || max_tokens > 32768) throw invalid_input("max_tokens " + std::to_string(max_tokens) + ": expected 1 to 32768");
}

std::string OcrOptions::fingerprint() const { return to_json().dump(); }

nlohmann::json OcrOptions::to_json() const {
  return {{"mode", mode}, {"task", task}, {"prompt", prompt}, {"pages", pages}, {"dpi", dpi}, {"max_tokens", max_tokens}};
}

OcrOptions OcrOptions::from_json(const nlohmann::json& j) {
  OcrOptions o;
  o.mode = j.value("mode", o.mode);
  o.task = j.value("task", o.task);
  o.prompt = j.value("prompt", o.prompt);
  o.pages = j.value("pages", o.pages);
  o.dpi = j.value("dpi", o.dpi);
  o.max_tokens = j.value("max_tokens", o.max_tokens);
  return o;
}

namespace {

// `bytes` is a std::string (handed over) or a shared_ptr to one (shared with the caller).
template <class Bytes>
OpenedDocument open_any(Bytes bytes, const std::string& name, const OcrOptions& options) {
  DocumentOptions doc_options;
  doc_options.dpi = options.dpi;
  OpenedDocument opened;
  opened.document = Document::open(std::move(bytes), name, doc_options);
  opened.paged = opened.document->format() == "pdf" || opened.document->page_count() > 1;
  opened.pages = parse_page_ranges(options.pages, opened.document->page_count());
  if (!opened.paged) opened.single_page = opened.document->render_page(0);
  return opened;
}

}  // namespace

OpenedDocument open_document(std::string bytes, const std::string& name, const OcrOptions& options) {
  return open_any(std::move(bytes), name, options);
}

OpenedDocument open_document(std::shared_ptr<const std::string> bytes, const std::string& name, const OcrOptions& options) {
  return open_any(std::move(bytes), name, options);
}

nlohmann::json run_page(OcrEngine& engine, Image image, int index, const OcrOptions& options,
                        const std::atomic<bool>* cancel, const PageSink& sink, Metrics* metrics) {
  PageRequest request;
  int width = image.width, height = image.height;
  request.image = std::move(image);
  request.page_index = index;
  request.mode = options.mode;
  request.task = options.task;
  request.prompt = options.prompt;
  request.max_tokens = options.max_tokens;
  EngineCallbacks callbacks;
  callbacks.cancel = cancel;
  if (sink.on_token) callbacks.on_text = [&](std::string_view text) { sink.on_token(index, text); };
  nlohmann::json page;
  try {
    PageResult result = engine.run(request, callbacks);
    result.index = index;
    if (result.finish_reason.empty()) result.finish_reason = "stop";
    if (metrics) metrics->count_page(result.finish_reason, result.timings.output_tokens);
    page = page_to_json(result, width, height);
  } catch (const Error& e) {
    if (metrics) metrics->count_page("error", 0);
    page = failed_page_json(index, "error", e.what());
    page["width"] = width;
    page["height"] = height;
  }
  return page;
}

std::vector<nlohmann::json> run_document(OcrEngine& engine, OpenedDocument& doc, const OcrOptions& options,
                                         const std::atomic<bool>* cancel, const std::function<std::string()>& cancel_message,
                                         const PageSink& sink, Metrics* metrics) {
  std::vector<nlohmann::json> pages;
  for (int index : doc.pages) {
    nlohmann::json page;
    if (cancel && cancel->load()) {
      page = failed_page_json(index, "cancelled", cancel_message ? cancel_message() : "cancelled");
      if (metrics) metrics->count_page("cancelled", 0);
    } else if (!doc.paged) {
      page = run_page(engine, std::move(doc.single_page), index, options, cancel, sink, metrics);
    } else {
      Image image;
      try {
        image = doc.document->render_page(index);
      } catch (const Error& e) {
        page = failed_page_json(index, "error", e.what());
        if (metrics) metrics->count_page("error", 0);
      }
      if (page.is_null()) page = run_page(engine, std::move(image), index, options, cancel, sink, metrics);
    }
    if (page["finish_reason"] == "cancelled" && page["error"].is_null())
      page["error"] = cancel_message ? cancel_message() : "cancelled";
    if (sink.on_page) sink.on_page(page);
    pages.push_back(std::move(page));
  }
  return pages;
}

}  // namespace folio::serve
