// Page selections as people type them: "1-3,5", "2", "4-" (to the end), spaces allowed.
#pragma once
#include <string_view>
#include <vector>

namespace folio {

// 1-based ranges in, 0-based page indices out, ascending and without duplicates.
// An empty (or all-blank) spec selects every page. Throws invalid_input for malformed
// input ("pages: '3-1' is a backwards range"), page 0, or pages beyond page_count.
std::vector<int> parse_page_ranges(std::string_view spec, int page_count);

}  // namespace folio
