#include "image/io/document.h"

#include "core/error.h"
#include "image/io/decode.h"
#include "image/io/document_kinds.h"
#include "image/io/image_header.h"

namespace folio {
namespace {

// One image file as a one-page document; decoded only when the page is asked for.
class SingleImageDocument : public Document {
 public:
  SingleImageDocument(std::shared_ptr<const std::string> bytes, const std::string& name, FileFormat format,
                      const DecodeLimits& limits)
      : Document(name), bytes_(std::move(bytes)), format_(format), limits_(limits) {
    // Fail at open for what the header already tells (size, GIF), as a PDF would.
    const ImageDims d = read_image_dims(*bytes_, format_, name);
    check_image_size(d.width, d.height, limits_, name);
    if (format_ == FileFormat::kGif) throw invalid_input(name + ": GIF is not supported");
  }
  int page_count() const override { return 1; }
  Image render_page(int index) override {
    check_index(index);
    return decode_image(*bytes_, name(), limits_);
  }
  std::string format() const override { return format_name(format_); }

 private:
  std::shared_ptr<const std::string> bytes_;
  FileFormat format_;
  DecodeLimits limits_;
};

}  // namespace

std::string Document::page_label(int index) const {
  return "page " + std::to_string(index + 1) + " of " + name_;
}

void Document::check_index(int index) const {
  if (index < 0 || index >= page_count())
    throw invalid_input(name_ + ": page " + std::to_string(index + 1) + " does not exist (the document has " +
                        std::to_string(page_count()) + " pages)");
}

namespace {

void check_open(const std::string* bytes, const std::string& name, const DocumentOptions& options) {
  if (!bytes || bytes->empty()) throw invalid_input(name + ": file is empty");
  if (options.max_pages < 1) throw invalid_input(name + ": max_pages must be at least 1");
  if (!(options.dpi >= 1 && options.dpi <= 2400))
    throw invalid_input(name + ": dpi must be between 1 and 2400");
}

}  // namespace

std::unique_ptr<Document> Document::open(std::string bytes, const std::string& name,
                                         const DocumentOptions& options) {
  // A PDF takes the bytes over: a long one appends its windows' updates to them (in the spare
  // capacity the caller may have left) instead of copying them.
  check_open(&bytes, name, options);
  if (detect_format(bytes) == FileFormat::kPdf) return open_pdf_document(std::move(bytes), name, options);
  return open(std::make_shared<const std::string>(std::move(bytes)), name, options);
}

std::unique_ptr<Document> Document::open(std::shared_ptr<const std::string> bytes, const std::string& name,
                                         const DocumentOptions& options) {
  check_open(bytes.get(), name, options);
  const FileFormat format = detect_format(*bytes);
  switch (format) {
    case FileFormat::kPdf: return open_pdf_document(std::move(bytes), name, options);
    case FileFormat::kTiff: return open_tiff_document(std::move(bytes), name, options);
    case FileFormat::kUnknown:
      throw invalid_input(name + ": not a supported document (expected PDF, PNG, JPEG, TIFF, WebP or BMP)");
    default: return std::make_unique<SingleImageDocument>(std::move(bytes), name, format, options.limits);
  }
}

}  // namespace folio
