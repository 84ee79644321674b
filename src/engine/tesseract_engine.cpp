// The classic engine: libtesseract behind the OcrEngine interface, so a fresh install does real
// OCR before any model is downloaded. One TessBaseAPI per concurrently running page (an instance
// is not thread-safe; instances are independent), created on demand and kept in a pool.
#include <tesseract/baseapi.h>
#include <tesseract/ocrclass.h>
#include <tesseract/resultiterator.h>

#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <mutex>
#include <sstream>
#include <thread>
#include <vector>

#include "core/error.h"
#include "engine/engine_factory.h"

namespace folio {
namespace {

// Forget the page. Not ClearAdaptiveClassifier(): the adaptive classifier belongs to the legacy
// engine, which OEM_LSTM_ONLY never runs, so there is nothing learnt to forget (checked: the same
// page reads the same after 33 others, and the heap stays flat over 1,500 text pages); clearing
// it rebuilt the empty templates of every eng + chi_sim class, ~28 MB in ~15,000 allocations a
// page, and on the first page of a thread other than the one that loaded the data that churn left
// ~32 MiB more resident: most of the server's peak above its resting size.
void clear_page(tesseract::TessBaseAPI& api) { api.Clear(); }


std::vector<std::string> split_languages(const std::string& languages) {
  std::vector<std::string> out;
  std::stringstream ss(languages);
  for (std::string lang; std::getline(ss, lang, '+');)
    if (!lang.empty()) out.push_back(lang);
  return out;
}

std::vector<std::string> tessdata_candidates() {
  std::vector<std::string> dirs;
  if (const char* env = std::getenv("TESSDATA_PREFIX"); env && *env) {
    dirs.push_back(env);
    dirs.push_back(std::string(env) + "/tessdata");
  }
  dirs.push_back("/usr/share/tesseract-ocr/5/tessdata");
  dirs.push_back("/usr/share/tesseract-ocr/4.00/tessdata");
  dirs.push_back("/usr/share/tessdata");
  return dirs;
}

struct LanguageChoice {
  std::string datapath;   // folder holding <lang>.traineddata
  std::string languages;  // "eng+chi_sim", possibly reduced to what exists
};

// Keeps the requested languages whose data exists; the first requested language must exist
// (it is the one users asked for first), the others are dropped with a note when missing.
LanguageChoice choose_languages(const std::string& requested) {
  auto wanted = split_languages(requested.empty() ? "eng+chi_sim" : requested);
  for (const std::string& dir : tessdata_candidates()) {
    auto has = [&](const std::string& lang) { return std::filesystem::exists(dir + "/" + lang + ".traineddata"); };
    if (wanted.empty() || !has(wanted.front())) continue;
    LanguageChoice choice{dir, ""};
    for (const std::string& lang : wanted) {
      if (!has(lang)) {
        std::fprintf(stderr, "folio: Tesseract data for '%s' not found in %s; continuing without it\n", lang.c_str(), dir.c_str());
        continue;
      }
      choice.languages += (choice.languages.empty() ? "" : "+") + lang;
    }
    return choice;
  }
  std::string looked;
  for (const auto& d : tessdata_candidates()) looked += " " + d;
  throw unavailable("Tesseract language data '" + (wanted.empty() ? std::string("?") : wanted.front()) +
                    ".traineddata' not found (looked in" + looked +
                    "); install tesseract-ocr-eng (and tesseract-ocr-chi-sim) or set TESSDATA_PREFIX");
}

bool cancel_requested(void* flag, int) { return static_cast<const std::atomic<bool>*>(flag)->load(); }

std::string trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r\n"), e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

class TesseractEngine : public OcrEngine {
 public:
  explicit TesseractEngine(LanguageChoice choice) : choice_(std::move(choice)) {
    release(create());  // fail now, not on the first request, if the data cannot be loaded
  }

  EngineInfo info() const override {
    EngineInfo info;
    info.engine = "tesseract";
    info.model = choice_.languages + " (" + choice_.datapath + ")";
    info.device = "cpu";
    std::lock_guard lock(mutex_);
    info.memory["instances"] = static_cast<double>(created_);
    return info;
  }

  PageResult run(const PageRequest& request, const EngineCallbacks& callbacks) override {
    auto start = std::chrono::steady_clock::now();
    PageResult result;
    result.index = request.page_index;
    const Image& image = request.image;
    if (image.empty() || image.rgb.size() != size_t(image.width) * image.height * 3)
      throw invalid_input("page " + std::to_string(request.page_index + 1) + ": empty or malformed image");
    if (callbacks.cancel && callbacks.cancel->load()) {
      result.finish_reason = "cancelled";
      return result;
    }
    std::unique_ptr<tesseract::TessBaseAPI> api = acquire();
    struct Return {  // gives the instance back on every path, exceptions included
      TesseractEngine* self;
      std::unique_ptr<tesseract::TessBaseAPI>& api;
      ~Return() { self->release(std::move(api)); }
    } give_back{this, api};

    api->SetImage(image.rgb.data(), image.width, image.height, 3, image.width * 3);
    api->SetSourceResolution(144);
    auto preprocessed = std::chrono::steady_clock::now();
    tesseract::ETEXT_DESC monitor;
    if (callbacks.cancel) {
      monitor.cancel = &cancel_requested;
      monitor.cancel_this = const_cast<std::atomic<bool>*>(callbacks.cancel);
    }
    int rc = api->Recognize(&monitor);
    if (callbacks.cancel && callbacks.cancel->load()) {
      clear_page(*api);
      result.finish_reason = "cancelled";
      return result;
    }
    if (rc != 0) {
      clear_page(*api);
      result.finish_reason = "error";
      result.error = "page " + std::to_string(request.page_index + 1) + ": Tesseract could not recognise the page";
      return result;
    }
    std::unique_ptr<tesseract::ResultIterator> it(api->GetIterator());
    std::string joined;
    if (it) {
      do {
        std::unique_ptr<char[]> utf8(it->GetUTF8Text(tesseract::RIL_PARA));
        std::string text = trim(utf8 ? utf8.get() : "");
        if (text.empty()) continue;
        Block block;
        block.label = "text";
        block.text = text;
        block.page = request.page_index;
        int l = 0, t = 0, r = 0, b = 0;
        it->BoundingBox(tesseract::RIL_PARA, &l, &t, &r, &b);
        block.box = {l, t, r, b};
        result.blocks.push_back(std::move(block));
        if (!joined.empty()) joined += "\n\n";
        joined += text;
        if (callbacks.on_text) callbacks.on_text(result.blocks.size() == 1 ? text : "\n\n" + text);
      } while (it->Next(tesseract::RIL_PARA));
    }
    clear_page(*api);
    result.markdown = joined;
    result.text = joined;
    result.raw = joined;
    result.finish_reason = "stop";
    auto end = std::chrono::steady_clock::now();
    result.timings.preprocess_ms = std::chrono::duration<double, std::milli>(preprocessed - start).count();
    result.timings.decode_ms = std::chrono::duration<double, std::milli>(end - preprocessed).count();
    result.timings.total_ms = std::chrono::duration<double, std::milli>(end - start).count();
    return result;
  }

 private:
  std::unique_ptr<tesseract::TessBaseAPI> create() {
    auto api = std::make_unique<tesseract::TessBaseAPI>();
    if (api->Init(choice_.datapath.c_str(), choice_.languages.c_str(), tesseract::OEM_LSTM_ONLY) != 0)
      throw unavailable("Tesseract could not load '" + choice_.languages + "' from " + choice_.datapath);
    api->SetPageSegMode(tesseract::PSM_AUTO);
    api->SetVariable("debug_file", "/dev/null");  // keeps Tesseract's warnings off the server log
    std::lock_guard lock(mutex_);
    ++created_;
    return api;
  }

  // An idle instance, a new one while fewer than max_instances_ exist, else waits for one.
  std::unique_ptr<tesseract::TessBaseAPI> acquire() {
    {
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [&] { return !idle_.empty() || created_ < max_instances_; });
      if (!idle_.empty()) {
        auto api = std::move(idle_.back());
        idle_.pop_back();
        return api;
      }
    }
    return create();
  }

  // Instances are kept for the server's life. After clear_page() an instance holds nothing from
  // the pages it read (measured: heap in use flat within 4 KB over 1,500 text pages after the
  // first few); the growth once blamed on it was poppler's page cache. Replacing instances
  // every few hundred pages, as before, loaded the language data again each time, and that
  // load on a fragmented heap raised the server's peak by up to 8 MiB.
  void release(std::unique_ptr<tesseract::TessBaseAPI> api) {
    {
      std::lock_guard lock(mutex_);
      idle_.push_back(std::move(api));
    }
    cv_.notify_one();
  }

  LanguageChoice choice_;
  mutable std::mutex mutex_;
  std::condition_variable cv_;
  std::vector<std::unique_ptr<tesseract::TessBaseAPI>> idle_;
  int created_ = 0;
  int max_instances_ = std::max(2, static_cast<int>(std::thread::hardware_concurrency()));
};

}  // namespace

std::unique_ptr<OcrEngine> make_tesseract_engine(const EngineOptions& options) {
  return std::make_unique<TesseractEngine>(choose_languages(options.languages));
}

}  // namespace folio
