#include "serve/page_json.h"

namespace folio::serve {

nlohmann::json page_to_json(const PageResult& page, int width, int height) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const Block& b : page.blocks)
    blocks.push_back({{"label", b.label}, {"text", b.text}, {"box", {b.box[0], b.box[1], b.box[2], b.box[3]}}});
  const PageTimings& t = page.timings;
  return {{"index", page.index},
          {"markdown", page.markdown},
          {"text", page.text},
          {"raw", page.raw},
          {"blocks", blocks},
          {"finish_reason", page.finish_reason},
          {"timings",
           {{"preprocess_ms", t.preprocess_ms}, {"encode_ms", t.encode_ms}, {"prefill_ms", t.prefill_ms},
            {"decode_ms", t.decode_ms}, {"total_ms", t.total_ms}, {"prompt_tokens", t.prompt_tokens},
            {"output_tokens", t.output_tokens}}},
          {"width", width},
          {"height", height},
          {"error", page.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(page.error)}};
}

nlohmann::json failed_page_json(int index, const std::string& finish_reason, const std::string& message) {
  PageResult page;
  page.index = index;
  page.finish_reason = finish_reason;
  page.error = message;
  return page_to_json(page, 0, 0);
}

}  // namespace folio::serve
