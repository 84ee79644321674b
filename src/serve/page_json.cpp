#include "serve/page_json.h"

#include "engine/result_json.h"

namespace folio::serve {

nlohmann::json page_to_json(const PageResult& page, int width, int height) {
  nlohmann::json j = page_result_json(page);  // the fields the CLI prints too
  j["width"] = width;
  j["height"] = height;
  return j;
}

nlohmann::json failed_page_json(int index, const std::string& finish_reason, const std::string& message) {
  PageResult page;
  page.index = index;
  page.finish_reason = finish_reason;
  page.error = message;
  return page_to_json(page, 0, 0);
}

}  // namespace folio::serve
