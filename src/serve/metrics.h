// Server metrics in Prometheus text format: request latency histogram per route, queue depth,
// in flight, pages by finish reason, tokens, repetition stops, memory failures (always 0 on the
// CPU engines; a GPU engine never fails a request for memory), errors by kind, cache hits.
//
// Threading: thread-safe (one mutex; updates are a few per request).
#pragma once
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace folio::serve {

struct QueueFigures {
  int depth = 0, capacity = 0, in_flight = 0, workers = 0;
};

class Metrics {
 public:
  void observe_request(const std::string& route, int status, double seconds);
  void count_page(const std::string& finish_reason, int output_tokens);
  void count_error(const std::string& kind);
  void count_cache(bool hit);
  std::string render(const QueueFigures& queue) const;

 private:
  struct Histogram {
    std::vector<uint64_t> buckets;  // cumulative counts per bound in kBounds
    uint64_t count = 0;
    double sum = 0;
  };
  static const std::vector<double> kBounds;
  mutable std::mutex mutex_;
  std::map<std::string, Histogram> latency_;  // by route
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // (route, status)
  std::map<std::string, uint64_t> pages_;     // by finish reason
  std::map<std::string, uint64_t> errors_;    // by kind
  uint64_t tokens_ = 0, cache_hits_ = 0, cache_misses_ = 0;
};

}  // namespace folio::serve
