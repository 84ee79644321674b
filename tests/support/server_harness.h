// Test helpers for the server: an in-process folio server on 127.0.0.1 with an ephemeral port
// (real sockets, real HTTP through httplib::Client), fake engines, and test documents with known
// text (PDFs from make_text_pdf, PNGs rendered from them).
#pragma once
#include <httplib.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include "core/error.h"
#include "engine/engine_factory.h"
#include "image/io/document.h"
#include "image/io/encode.h"
#include "pdf_writer.h"
#include "serve/server.h"

namespace folio::testing {

// A fresh folder under the system temp dir, removed when the object goes.
class TempDir {
 public:
  TempDir() {
    std::random_device rd;
    path_ = std::filesystem::temp_directory_path() / ("folio-test-" + std::to_string(rd()) + std::to_string(rd()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string file(const std::string& name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

// The default engine, created once per test binary (loading eng+chi_sim takes a second).
inline std::shared_ptr<OcrEngine> tesseract_engine() {
  static std::shared_ptr<OcrEngine> engine = make_tesseract_engine(EngineOptions{});
  return engine;
}

// A fake engine: sleeps `delay` per page (checking cancel every few ms), answers "page N", and
// throws for the page indices listed in `fail_pages`.
class FakeEngine : public OcrEngine {
 public:
  explicit FakeEngine(std::chrono::milliseconds delay, std::vector<int> fail_pages = {})
      : delay_(delay), fail_pages_(std::move(fail_pages)) {}
  EngineInfo info() const override { return {"fake", "fake-model", "cpu", {}}; }
  PageResult run(const PageRequest& request, const EngineCallbacks& callbacks) override {
    ++calls;
    for (int f : fail_pages_)
      if (f == request.page_index) throw internal_error("fake engine fails page " + std::to_string(f + 1));
    PageResult r;
    r.index = request.page_index;
    auto end = std::chrono::steady_clock::now() + delay_;
    while (std::chrono::steady_clock::now() < end) {
      if (callbacks.cancel && callbacks.cancel->load()) {
        r.finish_reason = "cancelled";
        return r;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    r.text = r.markdown = r.raw = "page " + std::to_string(request.page_index);
    if (callbacks.on_text) callbacks.on_text(r.text);
    r.timings.output_tokens = 2;
    r.finish_reason = "stop";
    return r;
  }
  std::atomic<int> calls{0};

 private:
  std::chrono::milliseconds delay_;
  std::vector<int> fail_pages_;
};

// An in-process server on an ephemeral port with its own job database.
struct TestServer {
  TempDir dir;
  std::unique_ptr<serve::Server> server;
  int port = 0;

  explicit TestServer(std::shared_ptr<OcrEngine> engine, serve::ServerOptions options = {}) {
    options.host = "127.0.0.1";
    options.port = 0;
    if (options.jobs_db == serve::ServerOptions{}.jobs_db) options.jobs_db = dir.file("jobs.sqlite");
    server = std::make_unique<serve::Server>(options, std::move(engine));
    port = server->start();
  }
  std::unique_ptr<httplib::Client> client(int timeout_s = 120) const {
    auto c = std::make_unique<httplib::Client>("127.0.0.1", port);
    c->set_read_timeout(timeout_s, 0);
    c->set_write_timeout(timeout_s, 0);
    return c;
  }
};

inline std::vector<std::vector<std::string>> sample_pages(int count) {
  static const std::vector<std::string> lines = {
      "The quick brown fox jumps over the lazy dog.",
      "Invoices must be paid within thirty days of receipt.",
      "Folio turns scanned documents into Markdown text.",
      "Every page of this report was printed in Helvetica.",
      "Please keep this receipt for your records.",
      "The meeting starts at nine and ends before noon.",
  };
  std::vector<std::vector<std::string>> pages;
  for (int p = 0; p < count; ++p) {
    std::vector<std::string> page = {"Page " + std::to_string(p + 1) + " of the sample document"};
    for (int i = 0; i < 3; ++i) page.push_back(lines[(p + i) % lines.size()]);
    pages.push_back(page);
  }
  return pages;
}

inline std::string join_lines(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// A PNG of the given lines, rendered through the PDF path (what a scan of that page would show).
inline std::string text_png(const std::vector<std::string>& lines, int dpi = 144) {
  DocumentOptions opts;
  opts.dpi = dpi;
  auto doc = Document::open(make_text_pdf({lines}, 14, 612, 300), "sample.pdf", opts);
  return encode_png(doc->render_page(0));
}

inline httplib::Result post_file(httplib::Client& c, const std::string& path, const std::string& bytes,
                                 const std::string& filename, httplib::MultipartFormDataItems fields = {},
                                 httplib::Headers headers = {}) {
  fields.push_back({"file", bytes, filename, "application/octet-stream"});
  return c.Post(path.c_str(), headers, fields);
}

// Server-sent events parsed from a whole response body.
struct SseEvent {
  std::string event, data;
};
inline std::vector<SseEvent> parse_sse(const std::string& body) {
  std::vector<SseEvent> events;
  SseEvent current;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string line = body.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    pos = nl == std::string::npos ? body.size() : nl + 1;
    if (line.empty()) {
      if (!current.event.empty() || !current.data.empty()) events.push_back(current);
      current = {};
    } else if (line.rfind("event: ", 0) == 0) {
      current.event = line.substr(7);
    } else if (line.rfind("data: ", 0) == 0) {
      current.data += line.substr(6);
    }
  }
  return events;
}

inline void expect_json_error(const httplib::Result& r, int min_status, int max_status, const char* what) {
  ASSERT_TRUE(r) << what << ": no response";
  EXPECT_GE(r->status, min_status) << what << ": " << r->body;
  EXPECT_LE(r->status, max_status) << what << ": " << r->body;
  auto j = nlohmann::json::parse(r->body, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << what << ": body is not JSON: " << r->body.substr(0, 200);
  EXPECT_TRUE(j.contains("error") && j["error"].contains("kind") && j["error"].contains("message")) << what << ": " << r->body;
}

}  // namespace folio::testing
