#include "cli/stage_error.h"

#include <algorithm>
#include <cmath>

namespace folio {

StageError stage_error(const std::vector<float>& got, const std::vector<float>& want) {
  StageError e;
  if (got.size() != want.size()) return {INFINITY, 0.0};
  double max_diff = 0, dot = 0, gg = 0, ww = 0;
  for (size_t i = 0; i < got.size(); ++i) {
    const double d = std::fabs(static_cast<double>(got[i]) - want[i]);
    if (d > max_diff) {
      max_diff = d;
      e.worst = i;
      e.worst_got = got[i];
      e.worst_want = want[i];
    }
    dot += static_cast<double>(got[i]) * want[i];
    gg += static_cast<double>(got[i]) * got[i];
    ww += static_cast<double>(want[i]) * want[i];
  }
  const double rms = std::sqrt(ww / std::max<size_t>(1, want.size()));
  e.rel = rms > 0 ? max_diff / rms : max_diff;
  e.cosine = (gg > 0 && ww > 0) ? dot / std::sqrt(gg * ww) : (gg == ww ? 1.0 : 0.0);
  return e;
}

size_t rows_over(const std::vector<float>& got, const std::vector<float>& want, size_t width, double limit) {
  if (got.size() != want.size() || width == 0) return 0;
  double ww = 0;
  for (float w : want) ww += static_cast<double>(w) * w;
  const double bound = limit * std::sqrt(ww / std::max<size_t>(1, want.size()));
  size_t rows = 0;
  for (size_t r = 0; r * width < got.size(); ++r) {
    bool over = false;
    for (size_t i = r * width; i < std::min(got.size(), (r + 1) * width) && !over; ++i)
      over = std::fabs(static_cast<double>(got[i]) - want[i]) > bound;
    rows += over;
  }
  return rows;
}

}  // namespace folio
