#include "image/io/page_ranges.h"

#include <charconv>
#include <set>
#include <string>

#include "core/error.h"

namespace folio {
namespace {

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

int parse_page(std::string_view s, std::string_view item, int page_count) {
  s = trim(s);
  int v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size())
    throw invalid_input("pages: '" + std::string(item) + "' is not a page number or range like 1-3");
  if (v < 1 || v > page_count)
    throw invalid_input("pages: page " + std::string(s) + " is out of range (the document has " +
                        std::to_string(page_count) + " page" + (page_count == 1 ? "" : "s") + ")");
  return v;
}

}  // namespace

std::vector<int> parse_page_ranges(std::string_view spec, int page_count) {
  std::set<int> pages;
  if (trim(spec).empty()) {
    std::vector<int> all(page_count);
    for (int i = 0; i < page_count; ++i) all[i] = i;
    return all;
  }
  while (true) {
    const size_t comma = spec.find(',');
    const std::string_view item = trim(spec.substr(0, comma));
    if (item.empty()) throw invalid_input("pages: empty item in '" + std::string(spec) + "'");
    const size_t dash = item.find('-');
    if (dash == std::string_view::npos) {
      pages.insert(parse_page(item, item, page_count) - 1);
    } else {
      const int first = parse_page(item.substr(0, dash), item, page_count);
      const std::string_view rest = trim(item.substr(dash + 1));
      const int last = rest.empty() ? page_count : parse_page(rest, item, page_count);
      if (last < first) throw invalid_input("pages: '" + std::string(item) + "' is a backwards range");
      for (int p = first; p <= last; ++p) pages.insert(p - 1);
    }
    if (comma == std::string_view::npos) break;
    spec.remove_prefix(comma + 1);
  }
  return {pages.begin(), pages.end()};
}

}  // namespace folio
