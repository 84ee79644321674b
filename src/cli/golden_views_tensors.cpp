// Lite build (no image libraries): the official views from cases/<name>/views.safetensors.
#include <cstring>
#include <filesystem>

#include "cli/golden_views.h"
#include "core/error.h"
#include "weights/safetensors.h"

namespace folio {

Image load_golden_view(const std::string& case_dir, const std::string& view) {
  const std::string path = case_dir + "/views.safetensors";
  if (!std::filesystem::exists(path))
    throw not_found(path + ": missing; this build reads views from it (make it with "
                    "tools/golden_views_to_safetensors.py)");
  auto file = SafetensorsFile::open(path);
  if (!file->has(view)) throw invalid_input(path + ": no tensor '" + view + "'");
  const Tensor t = file->get(view);
  if (t.dtype() != DType::kU8 || t.shape().size() != 3 || t.dim(2) != 3)
    throw invalid_input(path + ": tensor '" + view + "' must be U8 [H, W, 3], is " + dtype_name(t.dtype()) + " " +
                        shape_str(t.shape()));
  Image im = Image::blank(static_cast<int>(t.dim(1)), static_cast<int>(t.dim(0)), 0);
  std::memcpy(im.rgb.data(), t.raw(), im.rgb.size());
  return im;
}

bool can_decode_pages() { return false; }

Image decode_page_file(const std::string& path) {
  throw unavailable(path + ": this build has no image decoders (FOLIO_FULL=OFF)");
}

}  // namespace folio
