// STAND-IN (serve branch): a document is a sequence of pages rendered one at a time (PDF via
// poppler, any single image as a one-page document). Only the current page is ever held in
// memory, so a 3,000-page PDF costs the same as a 3-page one. The lead keeps the real version.
//
// Threading: one Document is used by one thread at a time.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "image/image.h"
#include "image/io/decode.h"

namespace folio {

struct DocumentOptions {
  int dpi = 144;
  int max_pages = 5000;
  DecodeLimits limits;
};

class Document {
 public:
  virtual ~Document() = default;
  // Takes the bytes (kept for lazy rendering). Throws invalid_input for unreadable or
  // truncated files, too_large beyond max_pages.
  static std::unique_ptr<Document> open(std::string bytes, const std::string& name,
                                        const DocumentOptions& opts = {});
  virtual int page_count() const = 0;
  // Renders page `index` (0-based). Throws invalid_input naming the page when it cannot.
  virtual Image render_page(int index) = 0;
  virtual std::string format() const = 0;  // "pdf", "png", "jpeg", ...
};

// "1-3,5" (1-based, inclusive) -> {0,1,2,4}; empty spec -> every page. Throws invalid_input for
// malformed specs or pages outside 1..page_count.
std::vector<int> parse_page_ranges(const std::string& spec, int page_count);

}  // namespace folio
