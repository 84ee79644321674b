#include "image/io/page_ranges.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace folio {
namespace {

TEST(PageRanges, ParsesRangesToZeroBasedSortedPages) {
  EXPECT_EQ(parse_page_ranges("1-3,5", 10), (std::vector<int>{0, 1, 2, 4}));
  EXPECT_EQ(parse_page_ranges(" 5 , 1 - 2 ", 10), (std::vector<int>{0, 1, 4}));
  EXPECT_EQ(parse_page_ranges("2,2,1-2", 3), (std::vector<int>{0, 1}));
  EXPECT_EQ(parse_page_ranges("8-", 10), (std::vector<int>{7, 8, 9}));
  EXPECT_EQ(parse_page_ranges("", 3), (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(parse_page_ranges("4-4", 4), (std::vector<int>{3}));
}

TEST(PageRanges, RejectsMalformedAndOutOfRange) {
  for (const char* bad : {"0", "11", "3-1", "1-11", "a", "1,,2", "1-2-3", "-2", "1.5", "2x", ","}) {
    try {
      parse_page_ranges(bad, 10);
      ADD_FAILURE() << "accepted '" << bad << "'";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << bad;
      EXPECT_NE(std::string(e.what()).find("pages:"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace folio
