// Full build: the conformance folder's PNGs and pages through the image I/O layer.
#include <fstream>
#include <sstream>

#include "cli/golden_views.h"
#include "core/file_io.h"
#include "core/error.h"
#include "image/io/decode.h"

namespace folio {

Image load_golden_view(const std::string& case_dir, const std::string& view) {
  const std::string path = case_dir + "/" + view + ".png";
  return decode_image(read_file(path), path);
}

bool can_decode_pages() { return true; }

Image decode_page_file(const std::string& path) { return decode_image(read_file(path), path); }

}  // namespace folio
