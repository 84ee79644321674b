// The background worker for /v1/jobs: takes the oldest unfinished job from the store, opens its
// document and processes the pages not yet recorded, one page at a time (one rendered page in
// memory), writing each result in its own transaction. Jobs left "running" by a killed server are
// picked up again on start, keeping the pages already recorded.
//
// Threading: one runner thread; submit()/cancel()/stop() may be called from any thread.
#pragma once
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "engine/ocr_engine.h"
#include "serve/job_store.h"

namespace folio::serve {

class Metrics;

class JobRunner {
 public:
  JobRunner(JobStore& store, OcrEngine& engine, Metrics* metrics);
  ~JobRunner();
  void start();
  void notify();                             // a job was submitted
  void cancel(const std::string& job_id);    // stops the job's page in progress if it is running
  // Stops after the page in progress (waits up to `grace`, then cancels it; a cancelled page is
  // not recorded and runs again after the restart).
  void stop(std::chrono::milliseconds grace);

 private:
  void loop();
  void run_job(const std::string& id);
  JobStore& store_;
  OcrEngine& engine_;
  Metrics* metrics_;
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::string current_job_;
  std::atomic<bool> page_cancel_{false};  // polled by the engine for the page in progress
  std::atomic<bool> job_cancelled_{false};
  std::thread thread_;
};

}  // namespace folio::serve
