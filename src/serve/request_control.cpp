#include "serve/request_control.h"

#include <algorithm>

namespace folio::serve {

RequestRegistry::RequestRegistry() : watchdog_([this] { watch(); }) {}

RequestRegistry::~RequestRegistry() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  watchdog_.join();
}

std::shared_ptr<RequestControl> RequestRegistry::start(std::chrono::milliseconds timeout) {
  auto control = std::make_shared<RequestControl>();
  control->deadline = std::chrono::steady_clock::now() + timeout;
  std::lock_guard lock(mutex_);
  active_.push_back(control);
  return control;
}

void RequestRegistry::cancel_all() {
  std::lock_guard lock(mutex_);
  for (auto& weak : active_)
    if (auto control = weak.lock()) control->cancel = true;
}

// Checks deadlines ten times a second: fine enough for timeouts counted in seconds.
void RequestRegistry::watch() {
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    wake_.wait_for(lock, std::chrono::milliseconds(100));
    auto now = std::chrono::steady_clock::now();
    std::erase_if(active_, [&](const std::weak_ptr<RequestControl>& weak) {
      auto control = weak.lock();
      if (!control) return true;
      if (now >= control->deadline && !control->cancel) {
        control->timed_out = true;
        control->cancel = true;
      }
      return false;
    });
  }
}

}  // namespace folio::serve
