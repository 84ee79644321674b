#include "core/parallel.h"

#include <sched.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <mutex>
#include <thread>
#include <vector>

namespace folio {
namespace {

int default_threads() {
  if (const char* env = std::getenv("FOLIO_THREADS")) {
    int n = std::atoi(env);
    if (n > 0) return n;
  }
  cpu_set_t set;
  if (sched_getaffinity(0, sizeof(set), &set) == 0) return std::max(1, CPU_COUNT(&set));
  return std::max(1u, std::thread::hardware_concurrency());
}

// Waits for pred() by spinning for up to kSpin, and says whether it came true. Pool threads
// spin before they sleep: the encoder issues ~600 parallel loops per page, and a worker woken
// from a condition variable on this VM started 64 µs after the job was posted on average
// (38 ms per Base page), its late finish then holding up the submitter.
constexpr auto kSpin = std::chrono::microseconds(200);

template <class Pred>
bool spin_until(Pred pred) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0;; ++i) {
    if (pred()) return true;
#if defined(__x86_64__) || defined(__i386__)
    _mm_pause();
#endif
    if ((i & 63) == 63 && std::chrono::steady_clock::now() - start > kSpin) return false;
  }
}

// A fixed pool; a job is one function over [0, n), handed out in ranges pulled with an atomic
// counter that carries the job's generation (claim()).
class Pool {
 public:
  using Body = std::function<void(int64_t, int64_t)>;

  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    stop();
    stopping_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { worker(); });
  }

  void run(int64_t n, int64_t grain, const Body& body) {
    std::unique_lock<std::mutex> submit(submit_mu_);  // one job at a time
    uint64_t gen;
    {
      std::lock_guard<std::mutex> lk(mu_);
      body_ = &body;
      n_ = n;
      grain_ = grain;
      done_.store(0);
      gen = ++generation_ & kGenerationMask;
      next_.store(gen << kIndexBits);
      posted_.store(generation_, std::memory_order_release);
    }
    cv_.notify_all();
    drain(gen, n, grain, body);
    if (!spin_until([&] { return done_.load(std::memory_order_acquire) == n; })) {
      std::unique_lock<std::mutex> lk(mu_);
      done_cv_.wait(lk, [&] { return done_.load() == n; });
    }
    std::lock_guard<std::mutex> lk(mu_);
    body_ = nullptr;
  }

  static thread_local bool inside;

 private:
  // next_ holds the job's generation (24 bits) above the next unclaimed index (40 bits), and a
  // range is claimed only while the generation is still the one the thread joined. With a
  // plain counter, a worker late from the previous job could take an index of the next job
  // and compare it with that job's size: a range ran twice and done_ overshot n, so run()
  // waited for ever.
  static constexpr int kIndexBits = 40;
  static constexpr uint64_t kIndexMask = (uint64_t(1) << kIndexBits) - 1;
  static constexpr uint64_t kGenerationMask = (uint64_t(1) << (64 - kIndexBits)) - 1;

  // Guided ranges: each claim takes 1/(4 * threads) of what is left, at least `grain`. The
  // first ranges are large (few claims), the last ones small, so the threads finish close
  // together: with 8 equal chunks, a chunk of SAM's global attention (171 of its 1,368
  // tasks, ~20 ms) could leave one core idle at the end of each layer.
  bool claim(uint64_t gen, int64_t n, int64_t grain, int64_t& begin, int64_t& end) {
    const int64_t share = 4 * static_cast<int64_t>(size());
    uint64_t v = next_.load();
    for (;;) {
      const int64_t i = static_cast<int64_t>(v & kIndexMask);
      if ((v >> kIndexBits) != gen || i >= n) return false;
      const int64_t take = std::min(n - i, std::max(grain, (n - i) / share));
      if (next_.compare_exchange_weak(v, v + static_cast<uint64_t>(take))) {
        begin = i;
        end = i + take;
        return true;
      }
    }
  }

  void drain(uint64_t gen, int64_t n, int64_t grain, const Body& body) {
    inside = true;
    int64_t finished = 0, begin, end;
    while (claim(gen, n, grain, begin, end)) {
      body(begin, end);
      finished += end - begin;
    }
    inside = false;
    if (finished) {
      std::lock_guard<std::mutex> lk(mu_);
      if (done_.fetch_add(finished) + finished == n_) done_cv_.notify_all();
    }
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      const Body* body;
      int64_t n, grain;
      spin_until([&] { return posted_.load(std::memory_order_acquire) != seen || stopping_flag_.load(); });
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || (generation_ != seen && body_ != nullptr); });
        if (stopping_) return;
        seen = generation_;
        body = body_;
        n = n_;
        grain = grain_;
      }
      // body stays valid while an index of this generation is unclaimed: run() returns only
      // after every index is done.
      drain(seen & kGenerationMask, n, grain, *body);
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
      stopping_flag_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
    stopping_flag_ = false;
  }

  std::vector<std::thread> workers_;
  std::mutex submit_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const Body* body_ = nullptr;
  int64_t n_ = 0, grain_ = 1;
  std::atomic<int64_t> done_{0};
  std::atomic<uint64_t> next_{0};
  // generation_ as last posted, readable without the lock: what spinning workers watch.
  std::atomic<uint64_t> posted_{0};
  std::atomic<bool> stopping_flag_{false};
  uint64_t generation_ = 0;
  bool stopping_ = false;
};

thread_local bool Pool::inside = false;

Pool& pool() {
  static Pool p(default_threads());
  return p;
}

}  // namespace

int num_threads() { return pool().size(); }
void set_num_threads(int n) { pool().resize(std::max(1, n)); }

void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  if (n <= 0) return;
  grain = std::max<int64_t>(1, grain);
  if (n <= grain || num_threads() == 1 || Pool::inside) {
    fn(0, n);
    return;
  }
  // The pool's counter holds indices below 2^40; longer loops run as several jobs.
  constexpr int64_t kMaxJob = int64_t(1) << 39;
  for (int64_t base = 0; base < n; base += kMaxJob) {
    const int64_t count = std::min(kMaxJob, n - base);
    if (base == 0 && count == n) {
      pool().run(n, grain, fn);
    } else {
      pool().run(count, grain, [&](int64_t b, int64_t e) { fn(base + b, base + e); });
    }
  }
}

}  // namespace folio
