// Data-parallel loops over the process-wide worker pool. The pool size defaults to the
// number of cores the process may use (sched_getaffinity), FOLIO_THREADS overrides it.
// parallel_for blocks until every chunk is done; nested calls run inline (no deadlock).
#pragma once
#include <cstdint>
#include <functional>

namespace folio {

int num_threads();
void set_num_threads(int n);

// Calls fn(begin, end) on disjoint chunks covering [0, n), at least `grain` items each (the
// last one may be shorter). Chunks shrink towards the end of the loop (see parallel.cpp), and
// depend only on n, grain and the pool size: the same loop is cut the same way every run.
void parallel_for(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);

}  // namespace folio
