// One OCR request over a whole document: pages are rendered one at a time, run through the
// engine and handed to `on_page` as soon as each finishes, so memory holds one page at a time
// whatever the page count. Used by /v1/ocr (plain and SSE) and the job runner.
//
// An error on one page becomes that page's object (finish_reason "error" + message); errors
// about the whole file (unreadable, bad options) are thrown as folio::Error before any page.
#pragma once
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "engine/ocr_engine.h"
#include "image/io/document.h"

namespace folio::serve {

struct OcrOptions {
  std::string mode = "gundam";
  std::string task = "document";
  std::string prompt;
  std::string pages;  // "1-3,5" (1-based); empty = all
  int dpi = 144;
  int max_tokens = 8192;

  // Throws invalid_input for unknown modes/tasks and out-of-range numbers.
  void validate() const;
  // The options that change a result, as a stable string (part of the cache key).
  std::string fingerprint() const;
  nlohmann::json to_json() const;
  static OcrOptions from_json(const nlohmann::json& j);
};

struct PageSink {
  std::function<void(const nlohmann::json& page)> on_page;
  std::function<void(int page, std::string_view text)> on_token;  // optional
};

class Metrics;

// An opened document plus the pages selected from it.
struct OpenedDocument {
  std::unique_ptr<Document> document;
  std::vector<int> pages;  // 0-based indices to process, in order
  bool paged = false;      // a PDF or multi-page file: page errors are reported per page
  Image single_page;       // a one-image file is decoded at open, so a bad image fails the request
};

OpenedDocument open_document(std::string bytes, const std::string& name, const OcrOptions& options);
// The same over bytes the caller keeps using (the document shares them; no copy).
OpenedDocument open_document(std::shared_ptr<const std::string> bytes, const std::string& name, const OcrOptions& options);

// Runs the selected pages. `cancel` (optional) stops at the next check: the page in progress ends
// "cancelled" and the remaining pages are reported "cancelled" with `cancel_message`.
// Returns the page objects (also delivered through the sink).
std::vector<nlohmann::json> run_document(OcrEngine& engine, OpenedDocument& doc, const OcrOptions& options,
                                         const std::atomic<bool>* cancel, const std::function<std::string()>& cancel_message,
                                         const PageSink& sink, Metrics* metrics);

// Runs one already-rendered page image: the engine's result as a JSON page object. Engine
// errors become an error page (never thrown), so one bad page cannot fail a document.
nlohmann::json run_page(OcrEngine& engine, Image image, int index, const OcrOptions& options,
                        const std::atomic<bool>* cancel, const PageSink& sink, Metrics* metrics);

}  // namespace folio::serve
