// How the conformance runner gets pixels of a case. Two builds, one interface:
// - golden_views_png.cpp (full build): decodes the case's PNG views and the source page with
//   the image I/O layer (OpenCV/poppler).
// - golden_views_tensors.cpp (FOLIO_FULL=OFF, the GPU machine has no image libraries): reads
//   the views from cases/<name>/views.safetensors (U8 [H, W, 3] tensors named like the PNGs,
//   written by tools/golden_views_to_safetensors.py); pages cannot be decoded there.
#pragma once
#include <string>

#include "image/image.h"

namespace folio {

// The official view `view` ("global", "tile00", ...) of the case folder. Throws not_found /
// invalid_input naming the file.
Image load_golden_view(const std::string& case_dir, const std::string& view);
// Whether this build can decode page images (and so check preprocessing).
bool can_decode_pages();
// The page image file; throws kUnavailable where can_decode_pages() is false.
Image decode_page_file(const std::string& path);

}  // namespace folio
