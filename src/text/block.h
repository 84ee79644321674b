// One layout block of a page: what the grounding parser extracts from model output, and
// what the classic engine produces per text line/paragraph.
#pragma once
#include <array>
#include <string>

namespace folio {

struct Block {
  std::string label;            // "text", "title", "table", "image", ... (model's own labels)
  std::string text;             // the block's text (Markdown for tables: HTML)
  std::array<int, 4> box{};     // x1, y1, x2, y2 in pixels of the original page image
  int page = 0;                 // 0-based page index within the document
};

}  // namespace folio
