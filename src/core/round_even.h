// Rounding half to even without a libm call: lrint is not inlined while math-errno is on, and
// quantising weights at load spent more time in that call than in the arithmetic.
#pragma once

namespace folio {

// round(v) half to even for |v| < 2^22, the value lrint gives in the default rounding mode:
// adding 1.5 * 2^23 leaves no fraction bits, so the addition itself rounds. Plain float
// arithmetic, so loops of it vectorise.
inline float round_half_even(float v) {
  constexpr float kShift = 12582912.0f;  // 1.5 * 2^23
  return (v + kShift) - kShift;
}

}  // namespace folio
