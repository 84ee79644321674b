// The one interface the server, the job runner and the CLI talk to. A VLM engine
// (DeepSeek-OCR on CPU or CUDA) and the classic Tesseract engine both implement it;
// callers never learn which one they have.
//
// Threading: run() may be called from many threads at once. An engine either batches
// concurrent calls (the VLM engines) or serialises them internally.
#pragma once
#include <atomic>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "image/image.h"
#include "text/block.h"

namespace folio {

struct NgramOptions {
  bool enabled = true;
  int ngram_size = 30;
  int window = 90;
};

struct PageRequest {
  Image image;                 // the page, decoded (EXIF orientation applied)
  int page_index = 0;          // position in the document (0-based)
  std::string mode = "gundam"; // tiny | small | base | large | gundam
  std::string task = "document";  // document | ocr | free | figure | describe | locate | custom
  std::string prompt;          // custom prompt text, or the phrase for `locate`
  int max_tokens = 8192;
  int max_tiles = 6;           // Gundam tile limit: 6 (vLLM default) or up to 9
  NgramOptions ngram;
};

struct PageTimings {
  double preprocess_ms = 0, encode_ms = 0, prefill_ms = 0, decode_ms = 0, total_ms = 0;
  int prompt_tokens = 0, output_tokens = 0;
};

struct PageResult {
  int index = 0;
  std::string markdown;        // assembled Markdown (tags removed, figures linked)
  std::string text;            // plain text (no tags, no Markdown images)
  std::string raw;             // the model's raw output (tags kept, EOS stripped)
  std::vector<Block> blocks;   // grounding blocks with pixel boxes
  std::string finish_reason;   // stop | length | repetition | error | cancelled
  std::string error;           // set when finish_reason == "error"
  PageTimings timings;
};

struct EngineCallbacks {
  // Called with each decoded text piece (never splits a UTF-8 character). Optional.
  std::function<void(std::string_view)> on_text;
  // Polled between steps; when it becomes true the page finishes with "cancelled".
  const std::atomic<bool>* cancel = nullptr;
};

struct EngineInfo {
  std::string engine;          // "tesseract", "deepseek-ocr"
  std::string model;           // model folder or language data
  std::string device;          // "cpu", "cuda:0"
  std::map<std::string, double> memory;  // named figures in bytes (weights, kv_cache, peak ...)
};

class OcrEngine {
 public:
  virtual ~OcrEngine() = default;
  virtual EngineInfo info() const = 0;
  // Throws folio::Error for invalid requests; page-level model failures come back as
  // finish_reason "error" with a message.
  virtual PageResult run(const PageRequest& request, const EngineCallbacks& callbacks) = 0;
};

}  // namespace folio
