// Per-request cancellation: each running request registers a control whose `cancel` flag the
// engine polls. A watchdog thread raises the flag when the request's deadline passes
// (--request-timeout-s), and cancel_all() raises every flag at the end of a graceful shutdown.
//
// Threading: thread-safe; the watchdog thread lives as long as the registry.
#pragma once
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace folio::serve {

struct RequestControl {
  std::atomic<bool> cancel{false};
  std::chrono::steady_clock::time_point deadline;
  std::atomic<bool> timed_out{false};  // why cancel was raised: deadline vs shutdown/disconnect
};

class RequestRegistry {
 public:
  RequestRegistry();
  ~RequestRegistry();
  // A control whose deadline is `timeout` from now; it stays watched while the caller holds it.
  std::shared_ptr<RequestControl> start(std::chrono::milliseconds timeout);
  void cancel_all();

 private:
  void watch();
  std::mutex mutex_;
  std::condition_variable wake_;
  bool stopping_ = false;
  std::vector<std::weak_ptr<RequestControl>> active_;
  std::thread watchdog_;
};

}  // namespace folio::serve
