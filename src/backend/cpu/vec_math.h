// Float math for the CPU backend's elementwise loops. glibc's expf/erff are scalar calls, and
// GCC will not vectorise the clamp + bit tricks of a hand-written exp on its own, so the hot
// loops use 8-wide AVX2 versions of the same formulas (the backend is built for x86-64-v3).
// exp: Cody-Waite range reduction + degree-6 polynomial, relative error < 2e-7.
// erf: Abramowitz-Stegun 7.1.26, absolute error < 1.5e-7.
#pragma once
#include <immintrin.h>

#include <cmath>
#include <cstdint>
#include <cstring>

#include "backend/cpu/vec_math_constants.h"

namespace folio::cpu {

inline float fast_exp(float x) {
  x = x < vmc::kExpMin ? vmc::kExpMin : (x > vmc::kExpMax ? vmc::kExpMax : x);
  const float n = std::nearbyint(x * vmc::kLog2e);
  float r = x - n * vmc::kLn2Hi;
  r = r + n * vmc::kLn2Lo;
  float p = vmc::kExpP0;
  p = p * r + vmc::kExpP1;
  p = p * r + vmc::kExpP2;
  p = p * r + vmc::kExpP3;
  p = p * r + vmc::kExpP4;
  p = p * r + vmc::kExpP5;
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
  const float t = 1.0f / (1.0f + vmc::kErfP * a);
  const float poly = t * (vmc::kErfA1 + t * (vmc::kErfA2 + t * (vmc::kErfA3 + t * (vmc::kErfA4 + t * vmc::kErfA5))));
  const float y = 1.0f - poly * fast_exp(-a * a);
  return std::copysign(y, x);
}

inline __m256 exp8(__m256 x) {
  x = _mm256_min_ps(_mm256_max_ps(x, _mm256_set1_ps(vmc::kExpMin)), _mm256_set1_ps(vmc::kExpMax));
  const __m256 n = _mm256_round_ps(_mm256_mul_ps(x, _mm256_set1_ps(vmc::kLog2e)),
                                   _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m256 r = _mm256_fnmadd_ps(n, _mm256_set1_ps(vmc::kLn2Hi), x);
  r = _mm256_fmadd_ps(n, _mm256_set1_ps(vmc::kLn2Lo), r);
  __m256 p = _mm256_set1_ps(vmc::kExpP0);
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vmc::kExpP1));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vmc::kExpP2));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vmc::kExpP3));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vmc::kExpP4));
  p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(vmc::kExpP5));
  p = _mm256_fmadd_ps(_mm256_mul_ps(p, r), r, _mm256_add_ps(r, _mm256_set1_ps(1.0f)));
  const __m256i e = _mm256_slli_epi32(_mm256_cvtps_epi32(n), 23);
  return _mm256_castsi256_ps(_mm256_add_epi32(_mm256_castps_si256(p), e));
}

// x * Phi(x) with the erf above.
inline __m256 gelu_erf8(__m256 x) {
  const __m256 z = _mm256_mul_ps(x, _mm256_set1_ps(vmc::kInvSqrt2));
  const __m256 sign = _mm256_and_ps(z, _mm256_set1_ps(-0.0f));
  const __m256 a = _mm256_andnot_ps(_mm256_set1_ps(-0.0f), z);
  const __m256 t = _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_fmadd_ps(a, _mm256_set1_ps(vmc::kErfP), _mm256_set1_ps(1.0f)));
  __m256 poly = _mm256_fmadd_ps(t, _mm256_set1_ps(vmc::kErfA5), _mm256_set1_ps(vmc::kErfA4));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(vmc::kErfA3));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(vmc::kErfA2));
  poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(vmc::kErfA1));
  poly = _mm256_mul_ps(poly, t);
  const __m256 e = exp8(_mm256_sub_ps(_mm256_setzero_ps(), _mm256_mul_ps(a, a)));
  const __m256 erf = _mm256_or_ps(_mm256_fnmadd_ps(poly, e, _mm256_set1_ps(1.0f)), sign);
  return _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), x), _mm256_add_ps(_mm256_set1_ps(1.0f), erf));
}

// x * sigmoid(k * x): SiLU for k = 1, quick_gelu for k = 1.702.
inline __m256 x_sigmoid8(__m256 x, float k) {
  const __m256 e = exp8(_mm256_mul_ps(x, _mm256_set1_ps(-k)));
  return _mm256_div_ps(x, _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}

// Mean and (biased) variance of x[0, n) accumulated in double, as the scalar loops
// `mean += x[i]` / `var += (x[i] - mean)^2` did, but in 4 x 4 double lanes: the compiler may
// not reorder those sums itself, and the scalar version was 6% of an int8 encoder pass.
inline void mean_var_f64(const float* x, int64_t n, double& mean, double& var) {
  __m256d s[4] = {_mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd(), _mm256_setzero_pd()};
  int64_t i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 4; ++l) s[l] = _mm256_add_pd(s[l], _mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * l)));
  double lanes[4];
  _mm256_storeu_pd(lanes, _mm256_add_pd(_mm256_add_pd(s[0], s[1]), _mm256_add_pd(s[2], s[3])));
  double sum = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i) sum += x[i];
  mean = sum / static_cast<double>(n);
  const __m256d m = _mm256_set1_pd(mean);
  for (int l = 0; l < 4; ++l) s[l] = _mm256_setzero_pd();
  i = 0;
  for (; i + 16 <= n; i += 16)
    for (int l = 0; l < 4; ++l) {
      const __m256d d = _mm256_sub_pd(_mm256_cvtps_pd(_mm_loadu_ps(x + i + 4 * l)), m);
      s[l] = _mm256_fmadd_pd(d, d, s[l]);
    }
  _mm256_storeu_pd(lanes, _mm256_add_pd(_mm256_add_pd(s[0], s[1]), _mm256_add_pd(s[2], s[3])));
  double sq = (lanes[0] + lanes[1]) + (lanes[2] + lanes[3]);
  for (; i < n; ++i) sq += (x[i] - mean) * (x[i] - mean);
  var = sq / static_cast<double>(n);
}

// Applies a vector op to v[0, n), scalar tail included.
template <class Vec, class Scalar>
inline void map8(float* v, int64_t n, Vec vec, Scalar scalar) {
  int64_t i = 0;
  for (; i + 8 <= n; i += 8) _mm256_storeu_ps(v + i, vec(_mm256_loadu_ps(v + i)));
  for (; i < n; ++i) v[i] = scalar(v[i]);
}

}  // namespace folio::cpu
