#include "serve/job_runner.h"

#include <malloc.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "serve/ocr_pipeline.h"
#include "core/file_io.h"
#include "serve/page_json.h"

namespace folio::serve {
namespace {

// Gives the memory freed since the last call back to the system. Uploads, poppler and the engine
// allocate and free megabytes a page in many sizes and on several threads, and glibc keeps what is
// freed resident in the arena of the thread that freed it: without this, the upload's buffers
// (freed by an HTTP thread) were still resident when the job started, and the peak of a 5,000-page
// job was ~1.5 MiB higher (measured), more the longer the job. malloc_trim releases the whole free
// pages of every arena: ~0.3 ms between two pages (measured, 2 cores), next to milliseconds to
// seconds for a page.
void release_free_memory() { malloc_trim(0); }

}  // namespace

JobRunner::JobRunner(JobStore& store, OcrEngine& engine, Metrics* metrics)
    : store_(store), engine_(engine), metrics_(metrics) {}

JobRunner::~JobRunner() { stop(std::chrono::milliseconds(0)); }

void JobRunner::start() {
  if (!thread_.joinable()) thread_ = std::thread([this] { loop(); });
}

void JobRunner::notify() { wake_.notify_all(); }

void JobRunner::cancel(const std::string& job_id) {
  std::lock_guard lock(mutex_);
  if (current_job_ == job_id) {
    job_cancelled_ = true;
    page_cancel_ = true;
  }
}

void JobRunner::stop(std::chrono::milliseconds grace) {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (!thread_.joinable()) return;
  // Give the page in progress the grace period, then cancel it.
  auto deadline = std::chrono::steady_clock::now() + grace;
  std::unique_lock lock(mutex_);
  while (!current_job_.empty() && std::chrono::steady_clock::now() < deadline) {
    lock.unlock();
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    lock.lock();
  }
  page_cancel_ = true;
  lock.unlock();
  thread_.join();
}

void JobRunner::loop() {
  for (;;) {
    std::optional<std::string> id;
    {
      std::unique_lock lock(mutex_);
      if (stopping_) return;
    }
    try {
      id = store_.next_runnable();
    } catch (const std::exception& e) {
      std::fprintf(stderr, "folio serve: job store: %s\n", e.what());
    }
    if (!id) {
      std::unique_lock lock(mutex_);
      wake_.wait_for(lock, std::chrono::seconds(1), [&] { return stopping_; });
      continue;
    }
    {
      std::lock_guard lock(mutex_);
      current_job_ = *id;
      job_cancelled_ = false;
      page_cancel_ = stopping_;
    }
    try {
      run_job(*id);
    } catch (const std::exception& e) {
      store_.set_status(*id, "failed", e.what());
    }
    std::lock_guard lock(mutex_);
    current_job_.clear();
  }
}

void JobRunner::run_job(const std::string& id) {
  std::optional<JobRecord> job = store_.get(id);
  if (!job) return;
  store_.set_status(id, "running");
  OcrOptions options = OcrOptions::from_json(job->options);
  options.pages.clear();  // the page list was resolved at submission
  release_free_memory();
  auto open = [&] {
    std::string bytes;
    try {
      // Spare room for the update a long PDF appends to open one window of pages (see
      // image/io/pdf_page_window.h): appended in place rather than into a copy of the file.
      bytes = read_file(job->document_path, 256 * 1024);
    } catch (const Error&) {
      throw unavailable("the stored document of job " + id + " is missing (" + job->document_path + ")");
    }
    return open_document(std::move(bytes), job->filename, options);
  };
  OpenedDocument doc;
  try {
    doc = open();
  } catch (const Error& e) {
    // A single image that no longer decodes: report it on its page, like any page error.
    if (job->options.value("page_list", nlohmann::json::array()).size() != 1) throw;
    store_.record_page(id, 0, failed_page_json(0, "error", e.what()));
    store_.set_status(id, "done");
    return;
  }
  std::set<int> done = store_.done_indices(id);
  // One document for the whole job: a long PDF keeps only a window of parsed pages by itself
  // (image/io/pdf_page_window.h), so it is not reopened here.
  for (int index : job->options.value("page_list", std::vector<int>{})) {
    if (done.count(index)) continue;
    if (job_cancelled_ || page_cancel_) return;  // cancelled (status set by the API) or stopping
    release_free_memory();
    nlohmann::json page;
    if (!doc.paged) {
      page = run_page(engine_, std::move(doc.single_page), index, options, &page_cancel_, {}, metrics_);
    } else {
      try {
        page = run_page(engine_, doc.document->render_page(index), index, options, &page_cancel_, {}, metrics_);
      } catch (const Error& e) {
        page = failed_page_json(index, "error", e.what());
      }
    }
    // A page stopped by cancel or shutdown is not a result: it is redone after a restart.
    if (page["finish_reason"] == "cancelled" && (job_cancelled_ || page_cancel_)) return;
    store_.record_page(id, index, page);
  }
  store_.set_status(id, "done");
}

}  // namespace folio::serve
