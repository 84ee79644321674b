// Full build: the conformance folder's PNGs and pages through the image I/O layer.
#include <fstream>
#include <sstream>

#include "cli/golden_views.h"
#include "core/error.h"
#include "image/io/decode.h"

namespace folio {

namespace {
std::string slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw not_found(path + ": cannot read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}
}  // namespace

Image load_golden_view(const std::string& case_dir, const std::string& view) {
  const std::string path = case_dir + "/" + view + ".png";
  return decode_image(slurp(path), path);
}

bool can_decode_pages() { return true; }

Image decode_page_file(const std::string& path) { return decode_image(slurp(path), path); }

}  // namespace folio
