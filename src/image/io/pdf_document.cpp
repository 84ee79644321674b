// PDF pages through poppler-cpp, rendered one at a time with the Splash backend. A long PDF is
// opened one window of pages at a time (pdf_page_window.h), so the pages poppler parses and keeps
// stay a window's worth however far into the document the page is.
#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <mutex>
#include <optional>
#include <utility>

#include "core/error.h"
#include "image/io/document_kinds.h"
#include "image/io/pdf_page_window.h"

namespace folio {
namespace {

// Pages per window: what poppler keeps parsed at most (a few KB a page), against one reopen
// (the cross-reference is read again, ~1 ms for thousands of objects) per window.
constexpr int kWindowPages = 64;

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
  // Reads bytes shared with the caller, or bytes of its own (`shared` null, `owned` the file).
  PdfDocument(std::shared_ptr<const std::string> shared, std::string owned, const std::string& name,
              const DocumentOptions& options)
      : Document(name), shared_(std::move(shared)), buffer_(std::move(owned)), options_(options) {
    silence_poppler();
    const std::string& b = bytes();
    if (b.size() > static_cast<size_t>(INT32_MAX)) throw too_large(name + ": PDF is larger than 2 GiB");
    if (!has_eof_marker(b)) throw invalid_input(name + ": PDF is truncated (no %%EOF at the end)");
    doc_.reset(poppler::document::load_from_raw_data(b.data(), static_cast<int>(b.size())));
    if (!doc_) throw invalid_input(name + ": PDF is corrupt and cannot be opened");
    original_size_ = b.size();
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
    std::unique_ptr<poppler::page> page(open_page(index));
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
  // The poppler page for `index`: from the whole document for the first pages, else from the
  // window that holds it (a new window starts at `index`).
  poppler::page* open_page(int index) {
    if (!windows_ && !no_windows_ && index >= kWindowPages) start_windows();
    if (!windows_) return doc_->create_page(index);
    if (index < window_first_ || index >= window_first_ + window_count_) open_window(index);
    if (!windows_) return doc_->create_page(index);  // the window did not open; whole document again
    return doc_->create_page(index - window_first_);
  }

  const std::string& bytes() const { return shared_ ? *shared_ : buffer_; }

  void start_windows() {
    std::optional<pdf::PageWindows> windows = pdf::PageWindows::read(bytes());
    if (!windows || windows->page_count() != pages_) {
      no_windows_ = true;  // not a file this reader can window: poppler on the whole file, as it is
      return;
    }
    windows_ = std::move(windows);
    if (!shared_) return;
    // A window is the original bytes plus an update appended after them, so a document reading
    // shared bytes needs its own: one copy, once, then the shared ones are let go.
    doc_.reset();
    buffer_.reserve(original_size_ + 64 * 1024);
    buffer_.assign(*shared_);
    shared_.reset();
  }

  void open_window(int first) {
    const int count = std::min(kWindowPages, pages_ - first);
    doc_.reset();  // poppler reads the buffer until the document is closed
    buffer_.resize(original_size_);
    buffer_ += windows_->update(first, count, original_size_);
    doc_.reset(poppler::document::load_from_raw_data(buffer_.data(), static_cast<int>(buffer_.size())));
    if (doc_ && !doc_->is_locked() && doc_->pages() == count) {
      window_first_ = first;
      window_count_ = count;
      return;
    }
    // poppler read the update differently than expected: back to the whole file for good.
    windows_.reset();
    no_windows_ = true;
    buffer_.resize(original_size_);
    doc_.reset(poppler::document::load_from_raw_data(buffer_.data(), static_cast<int>(buffer_.size())));
    if (!doc_) throw internal_error(name() + ": PDF could not be reopened");
  }

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

  // poppler reads from these bytes: keep them alive. Once windows start, always buffer_ (the
  // original bytes + the current window's update).
  std::shared_ptr<const std::string> shared_;
  std::string buffer_;
  DocumentOptions options_;
  std::unique_ptr<poppler::document> doc_;
  int pages_ = 0;
  size_t original_size_ = 0;
  std::optional<pdf::PageWindows> windows_;
  bool no_windows_ = false;
  int window_first_ = 0, window_count_ = 0;
};

}  // namespace

std::unique_ptr<Document> open_pdf_document(std::shared_ptr<const std::string> bytes, const std::string& name,
                                            const DocumentOptions& options) {
  return std::make_unique<PdfDocument>(std::move(bytes), std::string(), name, options);
}

std::unique_ptr<Document> open_pdf_document(std::string bytes, const std::string& name, const DocumentOptions& options) {
  return std::make_unique<PdfDocument>(nullptr, std::move(bytes), name, options);
}

}  // namespace folio
