#include "text/markdown.h"

#include <gtest/gtest.h>

namespace {

const char* kRaw =
    "<|ref|>title<|/ref|><|det|>[[10, 10, 500, 40]]<|/det|>\n# Title\n\n\n\n"
    "<|ref|>image<|/ref|><|det|>[[0, 100, 499, 599]]<|/det|>\n"
    "<|ref|>equation<|/ref|><|det|>[[10, 600, 900, 650]]<|/det|>\n\\[ f \\coloneqq g \\eqqcolon h \\]\n"
    "<|ref|>image<|/ref|><|det|>[[500, 100, 999, 599], [0, 700, 999, 999]]<|/det|>\nend";

TEST(Markdown, AssemblesLikeTheOfficialScript) {
  auto page = folio::assemble_markdown(kRaw, 999, 1998, /*page=*/2);
  EXPECT_EQ(page.markdown,
            "\n# Title\n\n"
            "![](images/2_0.jpg)\n\n"
            "\\[ f := g =: h \\]\n"
            "![](images/2_1.jpg)\n![](images/2_2.jpg)\n\nend");
  ASSERT_EQ(page.figures.size(), 3u);
  EXPECT_EQ(page.figures[0].path(), "images/2_0.jpg");
  EXPECT_EQ(page.figures[0].box, (std::array<int, 4>{0, 200, 499, 1198}));
  EXPECT_EQ(page.figures[2].index, 2);
  EXPECT_EQ(page.figures[2].box, (std::array<int, 4>{0, 1400, 999, 1998}));
}

TEST(Markdown, PlainTextDropsAllTagsAndLinks) {
  std::string text = folio::plain_text(kRaw);
  EXPECT_EQ(text.find("<|"), std::string::npos);
  EXPECT_EQ(text.find("images/"), std::string::npos);
  EXPECT_EQ(text, "# Title\n\n\\[ f := g =: h \\]\n\nend");
}

TEST(Markdown, MalformedTagsAreLeftAsText) {
  auto page = folio::assemble_markdown("a <|ref|>image<|/ref|><|det|>[[1, 2]]<|/det|> b", 100, 100);
  EXPECT_EQ(page.markdown, "a <|ref|>image<|/ref|><|det|>[[1, 2]]<|/det|> b");
  EXPECT_TRUE(page.figures.empty());
}

TEST(Markdown, StripEos) {
  EXPECT_EQ(folio::strip_eos("  text\n<｜end▁of▁sentence｜>"), "text");
  EXPECT_EQ(folio::strip_eos("text<｜end▁of▁sentence｜>\n"), "text<｜end▁of▁sentence｜>");  // not trailing
  EXPECT_EQ(folio::strip_eos("no eos "), "no eos");
  EXPECT_EQ(folio::strip_eos(""), "");
}

}  // namespace
