// A JSON file (config.json, index files, conformance indexes) parsed, with errors naming it.
#pragma once
#include <string>

#include <nlohmann/json.hpp>

namespace folio {

// Throws not_found when the file cannot be opened, invalid_input when it is not JSON.
nlohmann::json read_json_file(const std::string& path);

}  // namespace folio
