// Markdown assembly from raw model output, like the official scripts (model doc section 7):
// tags labelled "image" become "![](images/{page}_{k}.jpg)\n" links (one per box, k counting
// from 0 within the page) and are returned as figure crops for the caller to cut and save; every
// other grounding tag is deleted, leaving its text; \coloneqq -> :=, \eqqcolon -> =:; runs of 3+
// newlines become 2. Pure functions; thread-safe.
#pragma once
#include <array>
#include <string>
#include <string_view>
#include <vector>

namespace folio {

struct FigureCrop {
  int page = 0;
  int index = 0;               // k in images/{page}_{k}.jpg
  std::array<int, 4> box{};    // pixels of the original page image
  std::string path() const { return "images/" + std::to_string(page) + "_" + std::to_string(index) + ".jpg"; }
};

struct MarkdownPage {
  std::string markdown;
  std::vector<FigureCrop> figures;
};

MarkdownPage assemble_markdown(std::string_view raw, int width, int height, int page = 0);

// The text alone: every grounding tag (image ones included) removed, same replacements and
// newline collapsing as the Markdown.
std::string plain_text(std::string_view raw);

// Removes one trailing "<｜end▁of▁sentence｜>" and then surrounding whitespace (official decode).
std::string strip_eos(std::string_view raw);

}  // namespace folio
