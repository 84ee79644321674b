// Multi-page TIFF through libtiff, reading one directory (page) at a time from memory.
// OpenCV 4.6 can only load all pages of an in-memory TIFF at once, which would break the
// one-page-in-memory rule for long scans.
#include <tiffio.h>

#include <algorithm>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"
#include "image/io/document_kinds.h"

namespace folio {
namespace {

// The in-memory "file" libtiff reads through its client callbacks, plus the last error.
struct MemoryFile {
  const std::string* bytes = nullptr;
  toff_t pos = 0;
  std::string last_error;
};

tsize_t mem_read(thandle_t h, tdata_t buf, tsize_t n) {
  auto* f = static_cast<MemoryFile*>(h);
  const toff_t size = f->bytes->size();
  if (n < 0 || f->pos >= size) return 0;
  const toff_t take = std::min<toff_t>(static_cast<toff_t>(n), size - f->pos);
  std::memcpy(buf, f->bytes->data() + f->pos, take);
  f->pos += take;
  return static_cast<tsize_t>(take);
}
tsize_t mem_write(thandle_t, tdata_t, tsize_t) { return -1; }
toff_t mem_seek(thandle_t h, toff_t off, int whence) {
  auto* f = static_cast<MemoryFile*>(h);
  const toff_t size = f->bytes->size();
  toff_t base = whence == SEEK_CUR ? f->pos : whence == SEEK_END ? size : 0;
  // toff_t is unsigned; a "negative" offset wraps, so seek results beyond the file fail.
  const toff_t to = base + off;
  if (to > size) return static_cast<toff_t>(-1);
  f->pos = to;
  return to;
}
int mem_close(thandle_t) { return 0; }
toff_t mem_size(thandle_t h) { return static_cast<MemoryFile*>(h)->bytes->size(); }
int mem_map(thandle_t, tdata_t*, toff_t*) { return 0; }
void mem_unmap(thandle_t, tdata_t, toff_t) {}

int on_error(TIFF*, void* user, const char*, const char* fmt, va_list ap) {
  char buf[512];
  std::vsnprintf(buf, sizeof(buf), fmt, ap);
  static_cast<MemoryFile*>(user)->last_error = buf;
  return 1;
}
int on_warning(TIFF*, void*, const char*, const char*, va_list) { return 1; }  // ignored

class TiffDocument : public Document {
 public:
  TiffDocument(std::shared_ptr<const std::string> bytes, const std::string& name, const DocumentOptions& options)
      : Document(name), bytes_(std::move(bytes)), options_(options) {
    file_.bytes = bytes_.get();
    TIFFOpenOptions* opts = TIFFOpenOptionsAlloc();
    TIFFOpenOptionsSetErrorHandlerExtR(opts, on_error, &file_);
    TIFFOpenOptionsSetWarningHandlerExtR(opts, on_warning, &file_);
    // One page is at most max_pixels RGBA words; no single libtiff buffer needs more.
    TIFFOpenOptionsSetMaxSingleMemAlloc(opts, options.limits.max_pixels * 4 + (1 << 20));
    tif_ = TIFFClientOpenExt(name.c_str(), "rm", &file_, mem_read, mem_write, mem_seek, mem_close, mem_size,
                             mem_map, mem_unmap, opts);
    TIFFOpenOptionsFree(opts);
    if (!tif_) throw invalid_input(name + ": TIFF is corrupt (" + error_text() + ")");
    // Count directories ourselves so a long (or looping) chain stops at max_pages + 1.
    int n = 1;
    while (n <= options_.max_pages && TIFFReadDirectory(tif_)) ++n;
    if (n > options_.max_pages)
      throw too_large(name + ": more than " + std::to_string(options_.max_pages) + " pages");
    pages_ = n;
  }
  ~TiffDocument() override {
    if (tif_) TIFFClose(tif_);
  }

  int page_count() const override { return pages_; }
  std::string format() const override { return "tiff"; }

  Image render_page(int index) override {
    check_index(index);
    const std::string label = page_label(index);
    file_.last_error.clear();
    if (!TIFFSetDirectory(tif_, static_cast<tdir_t>(index)))
      throw invalid_input(label + ": TIFF directory cannot be read (" + error_text() + ")");
    uint32_t w = 0, h = 0;
    if (!TIFFGetField(tif_, TIFFTAG_IMAGEWIDTH, &w) || !TIFFGetField(tif_, TIFFTAG_IMAGELENGTH, &h))
      throw invalid_input(label + ": TIFF page has no image size");
    check_image_size(w, h, options_.limits, label);
    std::vector<uint32_t> raster(static_cast<size_t>(w) * h);
    // The RGBA interface handles every photometric/bit depth; ABGR words, top row first.
    if (!TIFFReadRGBAImageOriented(tif_, w, h, raster.data(), ORIENTATION_TOPLEFT, 1))
      throw invalid_input(label + ": TIFF data is corrupt (" + error_text() + ")");
    Image out = Image::blank(static_cast<int>(w), static_cast<int>(h), 0);
    for (size_t i = 0; i < raster.size(); ++i) {
      out.rgb[i * 3 + 0] = static_cast<uint8_t>(TIFFGetR(raster[i]));
      out.rgb[i * 3 + 1] = static_cast<uint8_t>(TIFFGetG(raster[i]));
      out.rgb[i * 3 + 2] = static_cast<uint8_t>(TIFFGetB(raster[i]));
    }
    return out;
  }

 private:
  std::string error_text() const { return file_.last_error.empty() ? "unknown error" : file_.last_error; }

  std::shared_ptr<const std::string> bytes_;
  DocumentOptions options_;
  MemoryFile file_;
  TIFF* tif_ = nullptr;
  int pages_ = 0;
};

}  // namespace

std::unique_ptr<Document> open_tiff_document(std::shared_ptr<const std::string> bytes, const std::string& name,
                                             const DocumentOptions& options) {
  return std::make_unique<TiffDocument>(std::move(bytes), name, options);
}

}  // namespace folio
