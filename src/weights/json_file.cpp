#include "weights/json_file.h"

#include "core/error.h"
#include "core/file_io.h"

namespace folio {

nlohmann::json read_json_file(const std::string& path) {
  try {
    return nlohmann::json::parse(read_file(path));
  } catch (const nlohmann::json::exception& e) {
    throw invalid_input(path + ": not valid JSON (" + e.what() + ")");
  }
}

}  // namespace folio
