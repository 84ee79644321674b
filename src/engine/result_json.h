// The JSON form of a page result, shared by the CLI (--json) and the HTTP API, so both
// print exactly the documented fields.
#pragma once
#include <nlohmann/json.hpp>

#include "engine/ocr_engine.h"

namespace folio {

nlohmann::json block_json(const Block& b);
nlohmann::json page_result_json(const PageResult& page);

}  // namespace folio
