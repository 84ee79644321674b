// Bounded admission for OCR requests: at most `workers` requests run at once, at most
// `max_queue` more wait for a slot; beyond that enter() throws overloaded (HTTP 429 with
// Retry-After), so overload never turns into unbounded memory, hangs or 5xx.
//
// Threading: every method is thread-safe. A Ticket belongs to one request; destroying it gives
// back whatever it holds (its queue place or its worker slot).
#pragma once
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>

namespace folio::serve {

class Admission {
 public:
  class Ticket {
   public:
    ~Ticket();
    // Waits for a worker slot until `deadline`; throws overloaded when it passes first and
    // unavailable when the server starts shutting down.
    void wait_for_slot(std::chrono::steady_clock::time_point deadline);

   private:
    friend class Admission;
    explicit Ticket(Admission& owner) : owner_(owner) {}
    Admission& owner_;
    bool running_ = false;
  };

  Admission(int workers, int max_queue);
  // Takes a queue place; throws overloaded when the queue is full, unavailable when closed.
  std::unique_ptr<Ticket> enter();
  // Refuses new requests from now on (graceful shutdown); those admitted keep their places.
  void close();
  // Also makes requests still waiting for a slot give up with unavailable (end of the grace period).
  void abort_waiting();

  int depth() const;      // requests waiting for a slot
  int in_flight() const;  // requests holding a slot
  int capacity() const { return max_queue_; }
  int workers() const { return workers_; }
  // Seconds a client should wait before retrying, from the current backlog.
  int retry_after_seconds() const;

 private:
  const int workers_, max_queue_;
  mutable std::mutex mutex_;
  std::condition_variable slot_freed_;
  int waiting_ = 0, running_ = 0;
  bool closed_ = false, aborted_ = false;
};

}  // namespace folio::serve
