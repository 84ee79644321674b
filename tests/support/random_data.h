// Seeded random test data shared by the backend tests.
#pragma once
#include <cstdint>
#include <random>
#include <vector>

namespace folio::testing {

// n normally distributed values (mean 0, standard deviation `scale`), the same for a given seed.
inline std::vector<float> randn(size_t n, uint32_t seed, float scale = 1.0f) {
  std::mt19937 g(seed);
  std::normal_distribution<float> d(0.0f, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(g);
  return v;
}

}  // namespace folio::testing
