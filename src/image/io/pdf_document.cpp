// PDF pages through poppler-cpp, rendered one at a time with the Splash backend.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <utility>

#include "core/error.h"
#include "image/io/document_kinds.h"

namespace folio {
namespace {

void silence_poppler() {
  // poppler prints parse complaints to stderr; we report failures through errors.
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

// A complete PDF ends with %%EOF (readers tolerate some trailing junk). Without it the
// file was cut off; poppler would "repair" it and silently lose pages.
bool has_eof_marker(const std::string& b) {
  const size_t tail = b.size() > 4096 ? b.size() - 4096 : 0;
  return b.find("%%EOF", tail) != std::string::npos;
}

class PdfDocument : public Document {
 public:
  PdfDocument(std::shared_ptr<const std::string> bytes, const std::string& name, const DocumentOptions& options)
      : Document(name), bytes_(std::move(bytes)), options_(options) {
    silence_poppler();
    if (bytes_->size() > static_cast<size_t>(INT32_MAX)) throw too_large(name + ": PDF is larger than 2 GiB");
    if (!has_eof_marker(*bytes_)) throw invalid_input(name + ": PDF is truncated (no %%EOF at the end)");
    doc_.reset(poppler::document::load_from_raw_data(bytes_->data(), static_cast<int>(bytes_->size())));
    if (!doc_) throw invalid_input(name + ": PDF is corrupt and cannot be opened");
    if (doc_->is_locked()) throw invalid_input(name + ": PDF is password-protected");
    pages_ = doc_->pages();
    if (pages_ < 1) throw invalid_input(name + ": PDF has no pages");
    if (pages_ > options_.max_pages)
      throw too_large(name + ": " + std::to_string(pages_) + " pages exceeds the limit of " +
                      std::to_string(options_.max_pages) + " pages");
  }

  int page_count() const override { return pages_; }
  std::string format() const override { return "pdf"; }

  Image render_page(int index) override {
    check_index(index);
    const std::string label = page_label(index);
    std::unique_ptr<poppler::page> page(doc_->create_page(index));
    if (!page) throw invalid_input(label + ": page cannot be read");
    check_rendered_size(*page, label);

    poppler::page_renderer renderer;
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    renderer.set_image_format(poppler::image::format_rgb24);
    const poppler::image img = renderer.render_page(page.get(), options_.dpi, options_.dpi);
    if (!img.is_valid() || img.format() != poppler::image::format_rgb24)
      throw invalid_input(label + ": page cannot be rendered");
    check_image_size(img.width(), img.height(), options_.limits, label);
    return to_rgb(img);
  }

 private:
  // Splash sizes the page as crop box * dpi / 72, rounded; /Rotate 90 or 270 swaps sides.
  void check_rendered_size(const poppler::page& page, const std::string& label) const {
    const poppler::rectf box = page.page_rect(poppler::crop_box);
    const double scale = options_.dpi / 72.0;
    double w = std::floor(box.width() * scale + 0.5), h = std::floor(box.height() * scale + 0.5);
    const auto o = page.orientation();
    if (o == poppler::page::landscape || o == poppler::page::seascape) std::swap(w, h);
    if (!(w < 1e12 && h < 1e12)) throw invalid_input(label + ": page size is invalid");
    check_image_size(static_cast<int64_t>(w), static_cast<int64_t>(h), options_.limits, label);
  }

  // format_rgb24: 3 bytes per pixel in R, G, B order, rows padded to 4 bytes.
  static Image to_rgb(const poppler::image& img) {
    Image out = Image::blank(img.width(), img.height(), 0);
    const char* data = img.const_data();
    for (int y = 0; y < img.height(); ++y) {
      const auto* in = reinterpret_cast<const uint8_t*>(data + static_cast<size_t>(y) * img.bytes_per_row());
      std::copy(in, in + static_cast<size_t>(img.width()) * 3, out.row(y));
    }
    return out;
  }

  std::shared_ptr<const std::string> bytes_;  // poppler reads from these bytes; keep them alive
  DocumentOptions options_;
  std::unique_ptr<poppler::document> doc_;
  int pages_ = 0;
};

}  // namespace

std::unique_ptr<Document> open_pdf_document(std::shared_ptr<const std::string> bytes, const std::string& name,
                                            const DocumentOptions& options) {
  return std::make_unique<PdfDocument>(std::move(bytes), name, options);
}

}  // namespace folio
