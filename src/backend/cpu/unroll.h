// unroll<N>(f) calls f(integral_constant<0>) ... f(integral_constant<N-1>): loops over register
// tiles written with it have constant indices when GCC decides where the accumulators live.
// With plain loops GCC 12 kept such arrays in memory (a store per multiply-add, measured 3x
// slower); with constants they all stay in registers.
#pragma once
#include <utility>

namespace folio::cpu {

template <class F, int... I>
inline __attribute__((always_inline)) void unroll_seq(F&& f, std::integer_sequence<int, I...>) {
  (f(std::integral_constant<int, I>{}), ...);
}

template <int N, class F>
inline __attribute__((always_inline)) void unroll(F&& f) {
  unroll_seq(f, std::make_integer_sequence<int, N>{});
}

}  // namespace folio::cpu
