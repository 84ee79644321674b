// The constants of vec_math.h's exp and erf, shared by the scalar, 8-wide and 16-wide versions
// (vec_math_avx512.h), which must stay the same sequence of operations on the same numbers.
#pragma once

namespace folio::cpu::vmc {

// exp: clamp, Cody-Waite reduction by ln 2 = ln2_hi - ln2_lo, degree-6 polynomial.
constexpr float kExpMin = -87.3f, kExpMax = 88.7f;
constexpr float kLog2e = 1.44269504088896341f;
constexpr float kLn2Hi = 0.693359375f, kLn2Lo = 2.12194440e-4f;
constexpr float kExpP0 = 1.9875691500e-4f, kExpP1 = 1.3981999507e-3f, kExpP2 = 8.3334519073e-3f,
                kExpP3 = 4.1665795894e-2f, kExpP4 = 1.6666665459e-1f, kExpP5 = 5.0000001201e-1f;
// erf (Abramowitz-Stegun 7.1.26): t = 1 / (1 + kErfP * |x|), poly in t of degree 5.
constexpr float kErfP = 0.3275911f;
constexpr float kErfA1 = 0.254829592f, kErfA2 = -0.284496736f, kErfA3 = 1.421413741f, kErfA4 = -1.453152027f,
                kErfA5 = 1.061405429f;
constexpr float kInvSqrt2 = 0.70710678118654752f;

}  // namespace folio::cpu::vmc
