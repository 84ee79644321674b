// Software prefetch of f32 rows a few rows ahead of the one being read. Row-wise passes over
// activations (LayerNorm, the int8 product's quantisation, attention's key packing) read rows
// that come from the previous op through memory; one row (3 KB at 768 channels, 256 bytes of a
// head) is too short for the hardware prefetchers to run ahead, so each row waited on memory.
#pragma once
#include <immintrin.h>

#include <algorithm>
#include <cstdint>

namespace folio::cpu {

// How many rows of `row_floats` floats make about 8 KB ahead (1 to 8).
inline int64_t rows_ahead(int64_t row_floats) { return std::clamp<int64_t>(8192 / (row_floats * 4), 1, 8); }

// Requests the cache lines of row[0, n) into L1.
inline void prefetch_row(const float* row, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) _mm_prefetch(reinterpret_cast<const char*>(row + i), _MM_HINT_T0);
}

// The same for a row about to be written (prefetchw): stores to lines that are not in cache
// otherwise wait for them to arrive.
inline void prefetch_row_for_write(float* row, int64_t n) {
  for (int64_t i = 0; i < n; i += 16) asm volatile("prefetchw %0" ::"m"(*reinterpret_cast<const char*>(row + i)));
}

}  // namespace folio::cpu
