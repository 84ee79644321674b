// 16-wide AVX-512 twins of vec_math.h's 8-wide activations, for code compiled with the
// AVX-512 flags (the *_vnni.cpp files) and run only after have_avx512_vnni(). Each is the same
// sequence of IEEE operations as its 8-wide twin, so a value comes out bit-identical whichever
// path computed it (the int8 product's fused activation vs the backend's separate pass).
#pragma once
#include <immintrin.h>

#include "backend/cpu/vec_math_constants.h"

namespace folio::cpu {

inline __m512 exp16(__m512 x) {
  x = _mm512_min_ps(_mm512_max_ps(x, _mm512_set1_ps(vmc::kExpMin)), _mm512_set1_ps(vmc::kExpMax));
  const __m512 n = _mm512_roundscale_ps(_mm512_mul_ps(x, _mm512_set1_ps(vmc::kLog2e)),
                                        _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
  __m512 r = _mm512_fnmadd_ps(n, _mm512_set1_ps(vmc::kLn2Hi), x);
  r = _mm512_fmadd_ps(n, _mm512_set1_ps(vmc::kLn2Lo), r);
  __m512 p = _mm512_set1_ps(vmc::kExpP0);
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vmc::kExpP1));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vmc::kExpP2));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vmc::kExpP3));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vmc::kExpP4));
  p = _mm512_fmadd_ps(p, r, _mm512_set1_ps(vmc::kExpP5));
  p = _mm512_fmadd_ps(_mm512_mul_ps(p, r), r, _mm512_add_ps(r, _mm512_set1_ps(1.0f)));
  const __m512i e = _mm512_slli_epi32(_mm512_cvtps_epi32(n), 23);
  return _mm512_castsi512_ps(_mm512_add_epi32(_mm512_castps_si512(p), e));
}

// x * Phi(x), as gelu_erf8.
inline __m512 gelu_erf16(__m512 x) {
  const __m512 z = _mm512_mul_ps(x, _mm512_set1_ps(vmc::kInvSqrt2));
  const __m512i sign_bit = _mm512_set1_epi32(static_cast<int>(0x80000000u));
  const __m512 sign = _mm512_castsi512_ps(_mm512_and_si512(_mm512_castps_si512(z), sign_bit));
  const __m512 a = _mm512_castsi512_ps(_mm512_andnot_si512(sign_bit, _mm512_castps_si512(z)));
  const __m512 t = _mm512_div_ps(_mm512_set1_ps(1.0f), _mm512_fmadd_ps(a, _mm512_set1_ps(vmc::kErfP), _mm512_set1_ps(1.0f)));
  __m512 poly = _mm512_fmadd_ps(t, _mm512_set1_ps(vmc::kErfA5), _mm512_set1_ps(vmc::kErfA4));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(vmc::kErfA3));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(vmc::kErfA2));
  poly = _mm512_fmadd_ps(poly, t, _mm512_set1_ps(vmc::kErfA1));
  poly = _mm512_mul_ps(poly, t);
  const __m512 e = exp16(_mm512_sub_ps(_mm512_setzero_ps(), _mm512_mul_ps(a, a)));
  const __m512 erf = _mm512_castsi512_ps(_mm512_or_si512(
      _mm512_castps_si512(_mm512_fnmadd_ps(poly, e, _mm512_set1_ps(1.0f))), _mm512_castps_si512(sign)));
  return _mm512_mul_ps(_mm512_mul_ps(_mm512_set1_ps(0.5f), x), _mm512_add_ps(_mm512_set1_ps(1.0f), erf));
}

// x * sigmoid(k * x), as x_sigmoid8.
inline __m512 x_sigmoid16(__m512 x, float k) {
  const __m512 e = exp16(_mm512_mul_ps(x, _mm512_set1_ps(-k)));
  return _mm512_div_ps(x, _mm512_add_ps(_mm512_set1_ps(1.0f), e));
}

}  // namespace folio::cpu
