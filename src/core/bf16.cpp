#include "core/bf16.h"

#include <cmath>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define FOLIO_HAVE_F16C_PATH 1
#endif

namespace folio {

float f16_to_f32(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  const uint32_t exp = (h >> 10) & 0x1f;
  const uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal half: value = mant * 2^-24
      float v = std::ldexp(static_cast<float>(mant), -24);
      std::memcpy(&bits, &v, 4);
      bits |= sign;
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

uint16_t f32_to_f16(float f) {
  uint32_t x;
  std::memcpy(&x, &f, 4);
  const uint16_t sign = static_cast<uint16_t>((x >> 16) & 0x8000u);
  const float a = std::fabs(f);
  if (std::isnan(f)) return sign | 0x7e00;
  if (a >= 65520.0f) return sign | 0x7c00;
  if (a < 6.103515625e-05f) {  // subnormal range, round to nearest even on 2^-24 steps
    return sign | static_cast<uint16_t>(std::nearbyint(a * 16777216.0f));
  }
  uint32_t bits;
  std::memcpy(&bits, &a, 4);
  uint32_t exp = ((bits >> 23) & 0xff) - 112;
  uint32_t mant = bits & 0x7fffff;
  uint32_t half = (exp << 10) | (mant >> 13);
  const uint32_t rest = mant & 0x1fff;
  if (rest > 0x1000 || (rest == 0x1000 && (half & 1))) ++half;
  return sign | static_cast<uint16_t>(half);
}

#ifdef FOLIO_HAVE_F16C_PATH
namespace {
// vcvtps2ph with rounding mode 0 (nearest even); overflow gives inf and NaN stays NaN, as in
// f32_to_f16.
__attribute__((target("avx,f16c"))) void f32_to_f16_f16c(const float* in, uint16_t* out, int64_t n) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8)
    _mm_storeu_si128(reinterpret_cast<__m128i*>(out + i), _mm256_cvtps_ph(_mm256_loadu_ps(in + i), 0));
  for (; i < n; ++i) out[i] = f32_to_f16(in[i]);
}
}  // namespace
#endif

void f32_to_f16_n(const float* in, uint16_t* out, int64_t n) {
#ifdef FOLIO_HAVE_F16C_PATH
  static const bool f16c = __builtin_cpu_supports("f16c");
  if (f16c) return f32_to_f16_f16c(in, out, n);
#endif
  for (int64_t i = 0; i < n; ++i) out[i] = f32_to_f16(in[i]);
}

}  // namespace folio
