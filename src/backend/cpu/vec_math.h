// Branch-free float math written so the compiler vectorises loops that call it (glibc's
// expf/erff are scalar calls and dominate the encoder's GELU otherwise).
// fast_exp: Cody-Waite range reduction + degree-6 polynomial, relative error < 2e-7.
// fast_erf: Abramowitz-Stegun 7.1.26 refined form, absolute error < 1.5e-7.
#pragma once
#include <cmath>
#include <cstdint>
#include <cstring>

namespace folio::cpu {

inline float fast_exp(float x) {
  x = x < -87.3f ? -87.3f : (x > 88.7f ? 88.7f : x);
  const float n = std::nearbyint(x * 1.44269504088896341f);
  float r = x - n * 0.693359375f;
  r = r + n * 2.12194440e-4f;
  float p = 1.9875691500e-4f;
  p = p * r + 1.3981999507e-3f;
  p = p * r + 8.3334519073e-3f;
  p = p * r + 4.1665795894e-2f;
  p = p * r + 1.6666665459e-1f;
  p = p * r + 5.0000001201e-1f;
  p = p * r * r + r + 1.0f;
  int32_t bits;
  std::memcpy(&bits, &p, 4);
  bits += static_cast<int32_t>(n) << 23;
  float out;
  std::memcpy(&out, &bits, 4);
  return out;
}

inline float fast_erf(float x) {
  const float a = std::fabs(x);
  const float t = 1.0f / (1.0f + 0.3275911f * a);
  const float poly = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
  const float y = 1.0f - poly * fast_exp(-a * a);
  return std::copysign(y, x);
}

}  // namespace folio::cpu
