// bfloat16 <-> float conversion. bf16 is the upper half of an IEEE float; rounding to
// bf16 is round-to-nearest-even, the same as PyTorch's .to(torch.bfloat16).
#pragma once
#include <cstdint>
#include <cstring>

namespace folio {

inline float bf16_to_f32(uint16_t v) {
  uint32_t bits = static_cast<uint32_t>(v) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

inline uint16_t f32_to_bf16(float f) {
  uint32_t bits;
  std::memcpy(&bits, &f, 4);
  if ((bits & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((bits >> 16) | 0x40);  // NaN stays NaN
  bits += 0x7fffu + ((bits >> 16) & 1u);
  return static_cast<uint16_t>(bits >> 16);
}

inline float round_to_bf16(float f) { return bf16_to_f32(f32_to_bf16(f)); }

// IEEE half -> float (for f16 checkpoints).
float f16_to_f32(uint16_t h);
uint16_t f32_to_f16(float f);
// n values at once, equal to f32_to_f16 on each: the x86 F16C instruction where the CPU has it
// (8 values per instruction; the CUDA vision encoder's pixels are millions of values per page).
void f32_to_f16_n(const float* in, uint16_t* out, int64_t n);

}  // namespace folio
