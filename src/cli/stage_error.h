// How far a computed tensor is from a reference: the figures the conformance README asks for.
#pragma once
#include <cstddef>
#include <vector>

namespace folio {

struct StageError {
  double rel = 0;     // max |got - want| / rms(want); infinite when the sizes differ
  double cosine = 1;  // of the flattened tensors; 0 when the sizes differ
  size_t worst = 0;   // flat index of the largest |got - want|, to say where a failure sits
  float worst_got = 0, worst_want = 0;
};

StageError stage_error(const std::vector<float>& got, const std::vector<float>& want);

// Rows of width `width` (a [rows, width] tensor) with some |got - want| > limit * rms(want):
// says whether a failing stage is off everywhere or in a few rows (e.g. a flipped expert).
size_t rows_over(const std::vector<float>& got, const std::vector<float>& want, size_t width, double limit);

}  // namespace folio
