// A long job's heap does not grow page after page. In process, with an engine that answers at
// once: a 3,000-page PDF of tiny pages goes through /v1/jobs, the engine holds the runner at two
// pages far apart, and the heap in use is compared there (the same state each time: the runner
// inside the engine with one rendered page, at the same place in a window of pages). Before, per
// page: poppler kept every page object it had parsed (~1.5 KB) and SQLite's page cache filled up
// to 2 MiB (~0.4 KB). The end-to-end figure (peak RSS of the real binary with Tesseract) is
// LargePdf in large_pdf_memory_test.cpp.
#include <malloc.h>

#include <condition_variable>
#include <mutex>

#include <gtest/gtest.h>

#include "support/server_harness.h"

namespace folio::testing {
namespace {

// Answers each page at once, except that it stops at the pages given until resume().
class PausingEngine : public OcrEngine {
 public:
  explicit PausingEngine(std::vector<int> pause_at) : pause_at_(std::move(pause_at)) {}
  EngineInfo info() const override { return {"pausing", "fake-model", "cpu", {}}; }
  PageResult run(const PageRequest& request, const EngineCallbacks&) override {
    if (std::find(pause_at_.begin(), pause_at_.end(), request.page_index) != pause_at_.end()) {
      std::unique_lock lock(mutex_);
      paused_at_ = request.page_index;
      cv_.notify_all();
      cv_.wait(lock, [&] { return paused_at_ < 0; });
    }
    PageResult r;
    r.index = request.page_index;
    r.text = r.markdown = r.raw = "page " + std::to_string(request.page_index);
    r.finish_reason = "stop";
    return r;
  }
  // Waits until the runner is held at `page`; false after 60 s.
  bool wait_paused(int page) {
    std::unique_lock lock(mutex_);
    return cv_.wait_for(lock, std::chrono::seconds(60), [&] { return paused_at_ == page; });
  }
  void resume() {
    std::lock_guard lock(mutex_);
    paused_at_ = -1;
    cv_.notify_all();
  }

 private:
  std::vector<int> pause_at_;
  std::mutex mutex_;
  std::condition_variable cv_;
  int paused_at_ = -1;
};

TEST(JobMemory, HeapStaysFlatThroughALongJob) {
  // 40 pages into a window of 64 both times (image/io/pdf_page_window.h), 1,792 pages apart.
  constexpr int kPages = 3000, kEarly = 15 * 64 + 40, kLate = 43 * 64 + 40;
  std::vector<std::vector<std::string>> content;
  for (int i = 0; i < kPages; ++i) content.push_back({"P" + std::to_string(i + 1)});
  const std::string pdf = make_text_pdf(content, 12, 96, 48);
  auto engine = std::make_shared<PausingEngine>(std::vector<int>{kEarly, kLate});
  TestServer srv(engine);
  auto c = srv.client();
  auto r = post_file(*c, "/v1/jobs", pdf, "long.pdf", {{"dpi", "72", "", ""}});
  ASSERT_TRUE(r && r->status == 202) << (r ? r->body : "no response");
  const std::string id = nlohmann::json::parse(r->body)["id"];

  ASSERT_TRUE(engine->wait_paused(kEarly));
  const auto early = static_cast<long long>(mallinfo2().uordblks);
  engine->resume();
  ASSERT_TRUE(engine->wait_paused(kLate));
  const auto late = static_cast<long long>(mallinfo2().uordblks);
  engine->resume();

  nlohmann::json job;
  for (int i = 0; i < 600; ++i) {
    auto g = c->Get(("/v1/jobs/" + id + "?include_pages=0").c_str());
    ASSERT_TRUE(g && g->status == 200);
    job = nlohmann::json::parse(g->body);
    if (job["status"] != "queued" && job["status"] != "running") break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["pages_done"], kPages);
  const long long grown = late - early;
  std::printf("[ memory   ] heap in use %+lld bytes from page %d to page %d (%.0f bytes a page)\n", grown, kEarly + 1,
              kLate + 1, static_cast<double>(grown) / (kLate - kEarly));
  // poppler's page cache alone added ~2.7 MB over these 1,792 pages.
  EXPECT_LT(grown, 256 * 1024) << "the heap grew by " << grown << " bytes over " << kLate - kEarly << " pages";
}

}  // namespace
}  // namespace folio::testing
