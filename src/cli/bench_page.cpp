#include "cli/bench_page.h"

#include <algorithm>

namespace folio {

Image synthetic_page(int w, int h, uint32_t seed) {
  Image im = Image::blank(w, h, 255);
  uint32_t s = seed;
  auto next = [&] { return s = s * 1664525u + 1013904223u; };
  for (int y = 80; y + 20 < h - 80; y += 34) {
    int x = 90;
    while (x < w - 120) {
      const int word = 20 + next() % 90;
      for (int yy = y; yy < y + 18; ++yy)
        for (int xx = x; xx < std::min(x + word, w - 90); ++xx)
          if ((next() & 3) != 0) std::fill_n(im.row(yy) + xx * 3, 3, static_cast<uint8_t>(20 + next() % 60));
      x += word + 12;
    }
  }
  return im;
}

std::vector<int32_t> synthetic_prompt(const DeepseekOcrConfig& cfg, int64_t n_placeholders) {
  std::vector<int32_t> prompt{cfg.lm.bos};
  prompt.insert(prompt.end(), n_placeholders, cfg.image_token);
  for (int i = 0; i < 12; ++i) prompt.push_back(300 + i * 7);
  return prompt;
}

}  // namespace folio
