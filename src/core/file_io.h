// Whole-file reads with errors that name the path.
#pragma once
#include <string>

namespace folio {

// The file's bytes. Throws not_found when it cannot be opened, internal_error on a read error.
// `spare_capacity` more bytes are reserved after them, for a caller that appends without copying.
std::string read_file(const std::string& path, size_t spare_capacity = 0);

}  // namespace folio
