// Whole-file reads with errors that name the path.
#pragma once
#include <string>

namespace folio {

// The file's bytes. Throws not_found when it cannot be opened, internal_error on a read error.
std::string read_file(const std::string& path);

}  // namespace folio
