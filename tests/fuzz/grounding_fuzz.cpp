// libFuzzer target for the grounding parser and Markdown assembly: model output is untrusted
// text, so any byte string must parse without crashing, hanging or reading out of bounds, and
// the results must satisfy the documented invariants.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "text/grounding.h"
#include "text/markdown.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  int width = size > 0 ? 1 + data[0] * 7 : 640, height = size > 1 ? 1 + data[1] * 5 : 480;
  auto tags = folio::find_grounding_tags(text);
  size_t prev_end = 0;
  for (const auto& tag : tags) {
    // Tags are in order, inside the input, non-overlapping, with 1..64 boxes.
    if (tag.begin < prev_end || tag.end > size || tag.begin >= tag.end) std::abort();
    if (tag.boxes.empty() || tag.boxes.size() > 64 || tag.label.size() > 256) std::abort();
    prev_end = tag.end;
  }
  for (const auto& block : folio::parse_grounding(text, width, height, 1)) {
    if (block.page != 1) std::abort();
    for (int k = 0; k < 4; ++k)
      if (block.box[k] < 0 || block.box[k] > (k % 2 ? height : width)) std::abort();
  }
  auto page = folio::assemble_markdown(text, width, height, 0);
  if (page.markdown.find("\n\n\n") != std::string::npos) std::abort();
  (void)folio::plain_text(text);
  (void)folio::strip_eos(text);
  return 0;
}
