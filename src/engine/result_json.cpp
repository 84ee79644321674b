#include "engine/result_json.h"

namespace folio {

nlohmann::json block_json(const Block& b) {
  return {{"label", b.label}, {"text", b.text}, {"box", {b.box[0], b.box[1], b.box[2], b.box[3]}}, {"page", b.page}};
}

nlohmann::json page_result_json(const PageResult& p) {
  nlohmann::json blocks = nlohmann::json::array();
  for (const Block& b : p.blocks) blocks.push_back(block_json(b));
  const PageTimings& t = p.timings;
  nlohmann::json j = {{"index", p.index},
                      {"markdown", p.markdown},
                      {"text", p.text},
                      {"raw", p.raw},
                      {"blocks", blocks},
                      {"finish_reason", p.finish_reason},
                      {"timings",
                       {{"preprocess_ms", t.preprocess_ms},
                        {"encode_ms", t.encode_ms},
                        {"prefill_ms", t.prefill_ms},
                        {"decode_ms", t.decode_ms},
                        {"total_ms", t.total_ms},
                        {"prompt_tokens", t.prompt_tokens},
                        {"output_tokens", t.output_tokens}}}};
  j["error"] = p.error.empty() ? nlohmann::json(nullptr) : nlohmann::json(p.error);
  return j;
}

}  // namespace folio
