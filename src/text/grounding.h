// Safe parser for DeepSeek-OCR grounding tags in model output:
//   <|ref|>LABEL<|/ref|><|det|>[[x1, y1, x2, y2], ...]<|/det|>
// The box list is read by a small hand-written parser (numbers, commas, brackets, spaces only);
// model text is never evaluated. Bounds: label <= 256 bytes without '<|' inside, at most 64
// boxes per tag, 4 numbers per box, 24 characters per number, brackets nested at most 2 deep.
// A tag that breaks any rule (unterminated, nested, oversized, bad list) is not a tag: it stays
// in the surrounding text. Work is linear in the input size. Pure functions; thread-safe.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

#include "text/block.h"

namespace folio {

struct GroundingTag {
  size_t begin = 0, end = 0;                // byte range of the whole tag in the input
  std::string label;                        // as written by the model
  std::vector<std::array<double, 4>> boxes; // x1, y1, x2, y2 on the model's 0..999 scale
};

// Every valid tag, in order.
std::vector<GroundingTag> find_grounding_tags(std::string_view text);

// 0..999 coordinates -> pixels of a width x height image: int(v / 999 * size), clamped to
// [0, size] (the official mapping).
std::array<int, 4> box_to_pixels(const std::array<double, 4>& box, int width, int height);

// Blocks of one page: each tag starts a block whose text is what follows it up to the next tag
// (trimmed of surrounding whitespace). A tag with several boxes gives one block per box; the
// text goes to the first of them. Text before the first tag, if any, becomes a block with an
// empty label and a zero box.
std::vector<Block> parse_grounding(std::string_view text, int width, int height, int page = 0);

}  // namespace folio
