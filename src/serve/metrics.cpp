#include "serve/metrics.h"

#include <sstream>

namespace folio::serve {

const std::vector<double> Metrics::kBounds = {0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300};

void Metrics::observe_request(const std::string& route, int status, double seconds) {
  std::lock_guard lock(mutex_);
  Histogram& h = latency_[route];
  if (h.buckets.empty()) h.buckets.assign(kBounds.size(), 0);
  for (size_t i = 0; i < kBounds.size(); ++i)
    if (seconds <= kBounds[i]) ++h.buckets[i];
  ++h.count;
  h.sum += seconds;
  ++requests_[{route, status}];
}

void Metrics::count_page(const std::string& finish_reason, int output_tokens) {
  std::lock_guard lock(mutex_);
  ++pages_[finish_reason];
  tokens_ += output_tokens > 0 ? output_tokens : 0;
}

void Metrics::count_error(const std::string& kind) {
  std::lock_guard lock(mutex_);
  ++errors_[kind];
}

void Metrics::count_cache(bool hit) {
  std::lock_guard lock(mutex_);
  ++(hit ? cache_hits_ : cache_misses_);
}

std::string Metrics::render(const QueueFigures& queue) const {
  std::lock_guard lock(mutex_);
  std::ostringstream out;
  out << "# HELP folio_request_duration_seconds Time from request to the last byte of the response.\n"
      << "# TYPE folio_request_duration_seconds histogram\n";
  for (const auto& [route, h] : latency_) {
    for (size_t i = 0; i < kBounds.size(); ++i)
      out << "folio_request_duration_seconds_bucket{route=\"" << route << "\",le=\"" << kBounds[i] << "\"} " << h.buckets[i] << "\n";
    out << "folio_request_duration_seconds_bucket{route=\"" << route << "\",le=\"+Inf\"} " << h.count << "\n"
        << "folio_request_duration_seconds_sum{route=\"" << route << "\"} " << h.sum << "\n"
        << "folio_request_duration_seconds_count{route=\"" << route << "\"} " << h.count << "\n";
  }
  out << "# HELP folio_requests_total Requests by route and status.\n# TYPE folio_requests_total counter\n";
  for (const auto& [key, n] : requests_)
    out << "folio_requests_total{route=\"" << key.first << "\",status=\"" << key.second << "\"} " << n << "\n";
  out << "# HELP folio_queue_depth Requests waiting for a worker.\n# TYPE folio_queue_depth gauge\n"
      << "folio_queue_depth " << queue.depth << "\n"
      << "# HELP folio_queue_capacity Requests that may wait before 429.\n# TYPE folio_queue_capacity gauge\n"
      << "folio_queue_capacity " << queue.capacity << "\n"
      << "# HELP folio_in_flight Requests being processed.\n# TYPE folio_in_flight gauge\n"
      << "folio_in_flight " << queue.in_flight << "\n"
      << "# HELP folio_workers Requests processed at once.\n# TYPE folio_workers gauge\n"
      << "folio_workers " << queue.workers << "\n";
  out << "# HELP folio_pages_total Pages finished, by finish reason.\n# TYPE folio_pages_total counter\n";
  for (const char* reason : {"stop", "length", "repetition", "error", "cancelled"})
    out << "folio_pages_total{finish_reason=\"" << reason << "\"} " << (pages_.count(reason) ? pages_.at(reason) : 0) << "\n";
  out << "# HELP folio_tokens_total Output tokens generated.\n# TYPE folio_tokens_total counter\n"
      << "folio_tokens_total " << tokens_ << "\n"
      << "# HELP folio_repetition_stops_total Pages stopped by the repetition detector.\n"
      << "# TYPE folio_repetition_stops_total counter\n"
      << "folio_repetition_stops_total " << (pages_.count("repetition") ? pages_.at("repetition") : 0) << "\n"
      << "# HELP folio_memory_failures_total Requests failed for lack of memory (designed to stay 0).\n"
      << "# TYPE folio_memory_failures_total counter\nfolio_memory_failures_total 0\n";
  out << "# HELP folio_errors_total Error responses by kind.\n# TYPE folio_errors_total counter\n";
  for (const char* kind : {"invalid_input", "too_large", "not_found", "overloaded", "unavailable", "internal", "unauthorized"})
    out << "folio_errors_total{kind=\"" << kind << "\"} " << (errors_.count(kind) ? errors_.at(kind) : 0) << "\n";
  out << "# HELP folio_cache_requests_total Result cache lookups.\n# TYPE folio_cache_requests_total counter\n"
      << "folio_cache_requests_total{result=\"hit\"} " << cache_hits_ << "\n"
      << "folio_cache_requests_total{result=\"miss\"} " << cache_misses_ << "\n";
  return out.str();
}

}  // namespace folio::serve
