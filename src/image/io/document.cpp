// STAND-IN (serve branch), see document.h. PDF through poppler-cpp, rendered page by page;
// any other file is a one-page document decoded on demand.
#include "image/io/document.h"

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-global.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <mutex>

#include "core/error.h"

namespace folio {
namespace {

void silence_poppler() {
  static std::once_flag once;
  std::call_once(once, [] { poppler::set_debug_error_function([](const std::string&, void*) {}, nullptr); });
}

class PdfDocument : public Document {
 public:
  PdfDocument(std::string bytes, std::string name, DocumentOptions opts)
      : bytes_(std::move(bytes)), name_(std::move(name)), opts_(opts) {
    silence_poppler();
    // A complete PDF ends with %%EOF (within the last 1 KB, allowing trailing junk); a download
    // cut short does not, and poppler would otherwise "repair" it into fewer or blank pages.
    size_t tail = bytes_.size() > 1024 ? bytes_.size() - 1024 : 0;
    if (bytes_.find("%%EOF", tail) == std::string::npos)
      throw invalid_input(name_ + ": the PDF is truncated (no %%EOF at the end)");
    doc_.reset(poppler::document::load_from_raw_data(bytes_.data(), static_cast<int>(bytes_.size())));
    if (!doc_) throw invalid_input(name_ + ": not a readable PDF (damaged or truncated)");
    if (doc_->is_locked()) throw invalid_input(name_ + ": the PDF is password-protected");
    pages_ = doc_->pages();
    if (pages_ <= 0) throw invalid_input(name_ + ": the PDF has no pages (damaged or truncated)");
    if (pages_ > opts_.max_pages)
      throw too_large(name_ + ": " + std::to_string(pages_) + " pages, more than the limit of " +
                      std::to_string(opts_.max_pages));
  }
  int page_count() const override { return pages_; }
  std::string format() const override { return "pdf"; }

  Image render_page(int index) override {
    std::string where = "page " + std::to_string(index + 1) + " of " + name_;
    if (index < 0 || index >= pages_) throw invalid_input(where + ": no such page");
    std::unique_ptr<poppler::page> page(doc_->create_page(index));
    if (!page) throw invalid_input(where + ": the page cannot be read");
    poppler::rectf box = page->page_rect(poppler::media_box);
    double scale = opts_.dpi / 72.0;
    int64_t w = static_cast<int64_t>(box.width() * scale), h = static_cast<int64_t>(box.height() * scale);
    if (w > opts_.limits.max_side || h > opts_.limits.max_side || w * h > opts_.limits.max_pixels)
      throw too_large(where + ": " + std::to_string(w) + "x" + std::to_string(h) + " pixels at " +
                      std::to_string(opts_.dpi) + " dpi is beyond the limit; use a lower dpi");
    poppler::page_renderer renderer;
    renderer.set_render_hint(poppler::page_renderer::antialiasing, true);
    renderer.set_render_hint(poppler::page_renderer::text_antialiasing, true);
    renderer.set_image_format(poppler::image::format_argb32);
    poppler::image img = renderer.render_page(page.get(), opts_.dpi, opts_.dpi);
    if (!img.is_valid() || img.width() <= 0 || img.height() <= 0) throw invalid_input(where + ": rendering failed");
    Image out = Image::blank(img.width(), img.height(), 255);
    const char* data = img.const_data();
    for (int y = 0; y < out.height; ++y) {
      // argb32 is stored as 32-bit words 0xAARRGGBB (little endian: B,G,R,A); pages are opaque.
      auto src = reinterpret_cast<const uint8_t*>(data + size_t(y) * img.bytes_per_row());
      uint8_t* dst = out.row(y);
      for (int x = 0; x < out.width; ++x) {
        dst[3 * x] = src[4 * x + 2];
        dst[3 * x + 1] = src[4 * x + 1];
        dst[3 * x + 2] = src[4 * x];
      }
    }
    return out;
  }

 private:
  std::string bytes_;  // poppler reads from this buffer for the document's lifetime
  std::string name_;
  DocumentOptions opts_;
  std::unique_ptr<poppler::document> doc_;
  int pages_ = 0;
};

class SingleImageDocument : public Document {
 public:
  SingleImageDocument(std::string bytes, std::string name, DocumentOptions opts)
      : bytes_(std::move(bytes)), name_(std::move(name)), opts_(opts) {
    if (bytes_.empty()) throw invalid_input(name_ + ": the file is empty");
  }
  int page_count() const override { return 1; }
  std::string format() const override {
    if (bytes_.rfind("\x89PNG", 0) == 0) return "png";
    if (bytes_.size() > 2 && uint8_t(bytes_[0]) == 0xFF && uint8_t(bytes_[1]) == 0xD8) return "jpeg";
    if (bytes_.rfind("II*", 0) == 0 || bytes_.rfind("MM", 0) == 0) return "tiff";
    if (bytes_.rfind("BM", 0) == 0) return "bmp";
    if (bytes_.rfind("RIFF", 0) == 0) return "webp";
    return "image";
  }
  Image render_page(int index) override {
    if (index != 0) throw invalid_input(name_ + ": page " + std::to_string(index + 1) + " does not exist");
    return decode_image(bytes_, name_, opts_.limits);
  }

 private:
  std::string bytes_, name_;
  DocumentOptions opts_;
};

}  // namespace

std::unique_ptr<Document> Document::open(std::string bytes, const std::string& name, const DocumentOptions& opts) {
  if (opts.dpi < 36 || opts.dpi > 600) throw invalid_input(name + ": dpi must be between 36 and 600");
  if (bytes.rfind("%PDF", 0) == 0) return std::make_unique<PdfDocument>(std::move(bytes), name, opts);
  auto doc = std::make_unique<SingleImageDocument>(std::move(bytes), name, opts);
  return doc;
}

std::vector<int> parse_page_ranges(const std::string& spec, int page_count) {
  std::vector<int> pages;
  auto bad = [&](const std::string& why) { return invalid_input("pages \"" + spec + "\": " + why); };
  if (spec.find_first_not_of(" \t") == std::string::npos) {
    for (int i = 0; i < page_count; ++i) pages.push_back(i);
    return pages;
  }
  size_t pos = 0;
  while (pos <= spec.size()) {
    size_t comma = spec.find(',', pos);
    std::string part = spec.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
    size_t dash = part.find('-');
    auto number = [&](const std::string& s) {
      size_t b = s.find_first_not_of(' '), e = s.find_last_not_of(' ');
      if (b == std::string::npos) throw bad("expected a page number");
      std::string t = s.substr(b, e - b + 1);
      if (t.size() > 7 || t.find_first_not_of("0123456789") != std::string::npos) throw bad("\"" + t + "\" is not a page number");
      return std::stoi(t);
    };
    int first = number(dash == std::string::npos ? part : part.substr(0, dash));
    int last = dash == std::string::npos ? first : number(part.substr(dash + 1));
    if (first < 1 || last > page_count || first > last)
      throw bad("range " + std::to_string(first) + "-" + std::to_string(last) + " is outside 1-" + std::to_string(page_count));
    for (int p = first; p <= last; ++p) pages.push_back(p - 1);
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  return pages;
}

}  // namespace folio
