// A multi-page source (PDF, multi-page TIFF, or one image as a one-page document) that
// renders pages on demand: only the encoded file is held, and a rendered page lives only
// in the Image that render_page returns. A 500-page PDF therefore costs one page of
// pixels at a time, and a long PDF is opened a window of pages at a time, so what the PDF
// library keeps parsed does not grow with how far into the document the page is either.
//
// Errors: open() throws invalid_input for empty, unknown, corrupt, truncated or
// password-protected files and too_large when the page count exceeds max_pages;
// render_page throws per page, naming it ("page 3 of scan.pdf: ..."), invalid_input for
// an unreadable page and too_large when the page would exceed the pixel limits at the
// requested dpi (it is not silently rendered smaller).
// Threading: a Document is used by one thread at a time; distinct Documents are independent.
#pragma once
#include <memory>
#include <string>

#include "image/image.h"
#include "image/io/decode_limits.h"

namespace folio {

struct DocumentOptions {
  double dpi = 144;        // PDF render resolution (the reference renders at 144)
  int max_pages = 5000;
  DecodeLimits limits;     // per page
};

class Document {
 public:
  virtual ~Document() = default;

  // The document shares ownership of `bytes` (PDF pages are parsed lazily from them).
  static std::unique_ptr<Document> open(std::shared_ptr<const std::string> bytes, const std::string& name,
                                        const DocumentOptions& options = {});
  static std::unique_ptr<Document> open(std::string bytes, const std::string& name,
                                        const DocumentOptions& options = {});

  virtual int page_count() const = 0;
  // 0-based; throws invalid_input when index is out of range.
  virtual Image render_page(int index) = 0;
  // "pdf", "tiff", "png", "jpeg", "webp", "bmp".
  virtual std::string format() const = 0;

  const std::string& name() const { return name_; }

 protected:
  explicit Document(std::string name) : name_(std::move(name)) {}
  // "page 3 of scan.pdf" for index 2: the prefix of every per-page error.
  std::string page_label(int index) const;
  void check_index(int index) const;

 private:
  std::string name_;
};

}  // namespace folio
