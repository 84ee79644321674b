#include "serve/admission.h"

#include <algorithm>
#include <string>

#include "core/error.h"

namespace folio::serve {

Admission::Admission(int workers, int max_queue) : workers_(std::max(1, workers)), max_queue_(std::max(0, max_queue)) {}

std::unique_ptr<Admission::Ticket> Admission::enter() {
  std::lock_guard lock(mutex_);
  if (closed_) throw unavailable("the server is shutting down; retry on another instance or after the restart");
  // A request that would find a free slot does not count against the queue.
  if (waiting_ >= max_queue_ && running_ + waiting_ >= workers_)
    throw overloaded("the queue is full (" + std::to_string(waiting_) + " requests waiting, " +
                     std::to_string(running_) + " running); retry later");
  ++waiting_;
  return std::unique_ptr<Ticket>(new Ticket(*this));
}

void Admission::Ticket::wait_for_slot(std::chrono::steady_clock::time_point deadline) {
  if (running_) return;
  std::unique_lock lock(owner_.mutex_);
  bool got = owner_.slot_freed_.wait_until(lock, deadline, [&] { return owner_.aborted_ || owner_.running_ < owner_.workers_; });
  if (owner_.aborted_) throw unavailable("the server is shutting down; retry after the restart");
  if (!got) throw overloaded("waited too long for a free worker; retry later");
  --owner_.waiting_;
  ++owner_.running_;
  running_ = true;
}

Admission::Ticket::~Ticket() {
  {
    std::lock_guard lock(owner_.mutex_);
    if (running_) --owner_.running_;
    else --owner_.waiting_;
  }
  owner_.slot_freed_.notify_all();
}

void Admission::close() {
  {
    std::lock_guard lock(mutex_);
    closed_ = true;
  }
  slot_freed_.notify_all();
}

void Admission::abort_waiting() {
  {
    std::lock_guard lock(mutex_);
    closed_ = aborted_ = true;
  }
  slot_freed_.notify_all();
}

int Admission::depth() const {
  std::lock_guard lock(mutex_);
  return waiting_;
}

int Admission::in_flight() const {
  std::lock_guard lock(mutex_);
  return running_;
}

int Admission::retry_after_seconds() const {
  std::lock_guard lock(mutex_);
  return std::clamp(1 + (waiting_ + running_) / workers_, 1, 60);
}

}  // namespace folio::serve
