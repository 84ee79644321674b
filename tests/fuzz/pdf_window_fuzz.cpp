// Fuzz target: the PDF cross-reference and page-tree reader behind windowed PDFs
// (image/io/pdf_page_window.h), which reads untrusted uploads. Any input must end in nullopt or a
// page tree whose update can be written, without a crash, a hang or a sanitizer report.
#include <cstdint>
#include <string_view>

#include "image/io/pdf_page_window.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  if (auto windows = folio::pdf::PageWindows::read(bytes); windows && windows->page_count() > 0) {
    const int first = windows->page_count() / 2;
    (void)windows->update(first, windows->page_count() - first, size);
  }
  return 0;
}
