#include "text/grounding.h"

#include <chrono>

#include <gtest/gtest.h>

namespace {

// Shaped like real "Convert the document to markdown" output.
const char* kPage =
    "<|ref|>title<|/ref|><|det|>[[100, 50, 899, 90]]<|/det|>\n# Annual Report 2023\n\n"
    "<|ref|>text<|/ref|><|det|>[[100, 120, 899, 300]]<|/det|>\nRevenue grew by 12% year over year.\n\n"
    "<|ref|>table<|/ref|><|det|>[[100, 320, 899, 600]]<|/det|>\n"
    "<table><tr><td>Q1</td><td>10</td></tr><tr><td>Q2</td><td>12</td></tr></table>\n\n"
    "<|ref|>image<|/ref|><|det|>[[0, 620, 999, 999]]<|/det|>\n\n"
    "<|ref|>text<|/ref|><|det|>[[120, 700, 880, 750], [120, 760, 880, 800]]<|/det|>\nTwo boxes.";

TEST(Grounding, ParsesRealisticPage) {
  auto blocks = folio::parse_grounding(kPage, 1998, 999, /*page=*/3);
  ASSERT_EQ(blocks.size(), 6u);
  EXPECT_EQ(blocks[0].label, "title");
  EXPECT_EQ(blocks[0].text, "# Annual Report 2023");
  EXPECT_EQ(blocks[0].box, (std::array<int, 4>{200, 50, 1798, 90}));
  EXPECT_EQ(blocks[0].page, 3);
  EXPECT_EQ(blocks[1].text, "Revenue grew by 12% year over year.");
  EXPECT_EQ(blocks[2].label, "table");
  EXPECT_EQ(blocks[2].text, "<table><tr><td>Q1</td><td>10</td></tr><tr><td>Q2</td><td>12</td></tr></table>");
  EXPECT_EQ(blocks[3].label, "image");
  EXPECT_EQ(blocks[3].text, "");
  EXPECT_EQ(blocks[3].box, (std::array<int, 4>{0, 620, 1998, 999}));
  EXPECT_EQ(blocks[4].text, "Two boxes.");  // several boxes: the text goes to the first
  EXPECT_EQ(blocks[5].text, "");
  EXPECT_EQ(blocks[5].box, (std::array<int, 4>{240, 760, 1760, 800}));
}

TEST(Grounding, PixelMappingTruncatesAndClamps) {
  EXPECT_EQ(folio::box_to_pixels({0, 0, 999, 999}, 640, 480), (std::array<int, 4>{0, 0, 640, 480}));
  EXPECT_EQ(folio::box_to_pixels({500, 500, 1500, -20}, 1000, 1000), (std::array<int, 4>{500, 500, 1000, 0}));
  EXPECT_EQ(folio::box_to_pixels({1, 1, 998, 998}, 1000, 100), (std::array<int, 4>{1, 0, 998, 99}));
}

TEST(Grounding, AcceptsFloatsAndAFlatBox) {
  auto tags = folio::find_grounding_tags("<|ref|>a<|/ref|><|det|>[12.5, 3, 40.25, 7]<|/det|>");
  ASSERT_EQ(tags.size(), 1u);
  EXPECT_EQ(tags[0].boxes[0], (std::array<double, 4>{12.5, 3, 40.25, 7}));
}

TEST(Grounding, TextBeforeTheFirstTagIsKept) {
  auto blocks = folio::parse_grounding("Intro line\n<|ref|>text<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>Body", 999, 999);
  ASSERT_EQ(blocks.size(), 2u);
  EXPECT_EQ(blocks[0].label, "");
  EXPECT_EQ(blocks[0].text, "Intro line");
  EXPECT_EQ(blocks[1].text, "Body");
}

TEST(Grounding, MalformedTagsStayPlainText) {
  const char* bad[] = {
      "<|ref|>text<|/ref|><|det|>[[1, 2, 3]]<|/det|>",              // three numbers
      "<|ref|>text<|/ref|><|det|>[[1, 2, 3, 4]]",                   // unterminated det
      "<|ref|>text<|/ref|><|det|>[[1, 2, 3, 4]<|/det|>",            // unbalanced
      "<|ref|>text<|/ref|><|det|>[[[1, 2, 3, 4]]]<|/det|>",         // nested too deep
      "<|ref|>text<|/ref|><|det|>__import__('os')<|/det|>",         // code, never evaluated
      "<|ref|>text<|/ref|><|det|>[[1e5, 2, 3, 4]]<|/det|>",         // exponent not accepted
      "<|ref|>te<|ref|>xt<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>",    // nested ref (outer)
      "<|ref|>text<|/ref|> <|det|>[[1, 2, 3, 4]]<|/det|>",          // not adjacent
      "<|ref|>text",                                                // unterminated ref
  };
  for (const char* s : bad) {
    auto tags = folio::find_grounding_tags(s);
    bool inner_ref_ok = std::string(s).find("te<|ref|>xt") != std::string::npos;
    EXPECT_EQ(tags.size(), inner_ref_ok ? 1u : 0u) << s;
    if (!inner_ref_ok) {
      auto blocks = folio::parse_grounding(s, 100, 100);
      ASSERT_EQ(blocks.size(), 1u) << s;
      EXPECT_EQ(blocks[0].text, s);  // the whole thing is text
    }
  }
  std::string long_label = "<|ref|>" + std::string(300, 'x') + "<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>";
  EXPECT_TRUE(folio::find_grounding_tags(long_label).empty());
  std::string many = "<|ref|>t<|/ref|><|det|>[";
  for (int i = 0; i < 100; ++i) many += (i ? ", " : "") + std::string("[1, 2, 3, 4]");
  many += "]<|/det|>";
  EXPECT_TRUE(folio::find_grounding_tags(many).empty());  // more than 64 boxes
  EXPECT_TRUE(folio::find_grounding_tags("<|ref|>t<|/ref|><|det|>[[1234567890123456789012345, 2, 3, 4]]<|/det|>").empty());
}

TEST(Grounding, AdversarialMegabyteIsLinear) {
  const std::string units[] = {"<|ref|>", "<|ref|>text<|/ref|><|det|>[[", "1, 2, 3, ", "<|/ref|>", "[[[[",
                               "<|ref|>a<|/ref|><|det|>[[1, 2, 3, 4]]<|/det|>"};
  for (const auto& unit : units) {
    std::string big;
    while (big.size() < (1u << 20)) big += unit;
    auto start = std::chrono::steady_clock::now();
    auto blocks = folio::parse_grounding(big, 1000, 1000);
    double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EXPECT_LT(s, 1.0) << unit;
    EXPECT_FALSE(blocks.empty());
  }
}

}  // namespace
