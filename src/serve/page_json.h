// The JSON page object of the API contract (docs/API.md), shared by /v1/ocr, SSE,
// jobs and the job store.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

#include "engine/ocr_engine.h"

namespace folio::serve {

nlohmann::json page_to_json(const PageResult& page, int width, int height);
// A page that could not be processed: finish_reason "error" (or "cancelled") with a message.
nlohmann::json failed_page_json(int index, const std::string& finish_reason, const std::string& message);

}  // namespace folio::serve
