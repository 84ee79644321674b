#include "core/parallel.h"

#include <sched.h>

#include <algorithm>
#include <atomic>
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

// A fixed pool; a job is one function over chunk indices, pulled with an atomic counter that
// carries the job's generation (claim()).
class Pool {
 public:
  explicit Pool(int n) { resize(n); }
  ~Pool() { stop(); }

  int size() const { return static_cast<int>(workers_.size()) + 1; }

  void resize(int n) {
    stop();
    stopping_ = false;
    for (int i = 1; i < n; ++i) workers_.emplace_back([this] { worker(); });
  }

  void run(int64_t chunks, const std::function<void(int64_t)>& body) {
    std::unique_lock<std::mutex> submit(submit_mu_);  // one job at a time
    uint32_t gen;
    {
      std::lock_guard<std::mutex> lk(mu_);
      body_ = &body;
      chunks_ = chunks;
      done_ = 0;
      gen = static_cast<uint32_t>(++generation_);
      next_.store(uint64_t(gen) << 32);
    }
    cv_.notify_all();
    drain(gen, chunks, body);
    std::unique_lock<std::mutex> lk(mu_);
    done_cv_.wait(lk, [&] { return done_ == chunks_; });
    body_ = nullptr;
  }

  static thread_local bool inside;

 private:
  // next_ holds the job's generation in its high 32 bits and the next chunk index in its low
  // 32 bits, and an index is claimed only while the generation is still the one the thread
  // joined. With a plain counter, a worker late from the previous job could take an index of
  // the next job and compare it with that job's chunk count: a chunk ran twice and done_
  // overshot chunks_, so run() waited for ever.
  bool claim(uint32_t gen, int64_t chunks, int64_t& i) {
    uint64_t v = next_.load();
    for (;;) {
      if (uint32_t(v >> 32) != gen || int64_t(v & 0xffffffffu) >= chunks) return false;
      if (next_.compare_exchange_weak(v, v + 1)) {
        i = int64_t(v & 0xffffffffu);
        return true;
      }
    }
  }

  void drain(uint32_t gen, int64_t chunks, const std::function<void(int64_t)>& body) {
    inside = true;
    int64_t finished = 0;
    for (int64_t i; claim(gen, chunks, i); ++finished) body(i);
    inside = false;
    if (finished) {
      std::lock_guard<std::mutex> lk(mu_);
      done_ += finished;
      if (done_ == chunks_) done_cv_.notify_all();
    }
  }

  void worker() {
    uint64_t seen = 0;
    for (;;) {
      const std::function<void(int64_t)>* body;
      int64_t chunks;
      {
        std::unique_lock<std::mutex> lk(mu_);
        cv_.wait(lk, [&] { return stopping_ || (generation_ != seen && body_ != nullptr); });
        if (stopping_) return;
        seen = generation_;
        body = body_;
        chunks = chunks_;
      }
      // body stays valid while an index of this generation is unclaimed: run() returns only
      // after every chunk is done.
      drain(static_cast<uint32_t>(seen), chunks, *body);
    }
  }

  void stop() {
    {
      std::lock_guard<std::mutex> lk(mu_);
      stopping_ = true;
    }
    cv_.notify_all();
    for (auto& t : workers_) t.join();
    workers_.clear();
  }

  std::vector<std::thread> workers_;
  std::mutex submit_mu_, mu_;
  std::condition_variable cv_, done_cv_;
  const std::function<void(int64_t)>* body_ = nullptr;
  int64_t chunks_ = 0;
  int64_t done_ = 0;
  std::atomic<uint64_t> next_{0};
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
  const int threads = num_threads();
  int64_t chunks = std::min<int64_t>((n + grain - 1) / grain, threads * 4);
  if (chunks <= 1 || threads == 1 || Pool::inside) {
    fn(0, n);
    return;
  }
  const int64_t step = (n + chunks - 1) / chunks;
  chunks = (n + step - 1) / step;
  std::function<void(int64_t)> body = [&](int64_t c) {
    const int64_t b = c * step;
    fn(b, std::min(n, b + step));
  };
  pool().run(chunks, body);
}

}  // namespace folio
