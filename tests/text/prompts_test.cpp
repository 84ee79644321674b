#include "text/prompts.h"

#include <gtest/gtest.h>

#include "core/error.h"

namespace {

const folio::Tokenizer& fixture() {
  static const auto t =
      folio::Tokenizer::from_file(std::string(FOLIO_SOURCE_DIR) + "/tests/data/tokenizer/tokenizer.json");
  return t;
}

TEST(Prompts, OfficialPromptPerTask) {
  EXPECT_EQ(folio::prompt_for_task("document"), "<image>\n<|grounding|>Convert the document to markdown.");
  EXPECT_EQ(folio::prompt_for_task("ocr"), "<image>\n<|grounding|>OCR this image.");
  EXPECT_EQ(folio::prompt_for_task("free"), "<image>\nFree OCR.");
  EXPECT_EQ(folio::prompt_for_task("figure"), "<image>\nParse the figure.");
  EXPECT_EQ(folio::prompt_for_task("describe"), "<image>\nDescribe this image in detail.");
  EXPECT_EQ(folio::prompt_for_task("locate", "the red car"), "<image>\nLocate <|ref|>the red car<|/ref|> in the image.");
  EXPECT_EQ(folio::prompt_for_task("custom", {}, "Read the table."), "<image>\nRead the table.");
  EXPECT_EQ(folio::prompt_for_task("custom", {}, "Look: <image> here"), "Look: <image> here");
}

TEST(Prompts, UnknownTaskListsTheValidOnes) {
  try {
    folio::prompt_for_task("translate");
    FAIL() << "no error";
  } catch (const folio::Error& e) {
    std::string m = e.what();
    EXPECT_EQ(e.kind(), folio::ErrorKind::kInvalidInput);
    for (const auto& task : folio::prompt_tasks()) EXPECT_NE(m.find(task), std::string::npos) << m;
  }
  EXPECT_THROW(folio::prompt_for_task("locate"), folio::Error);
  EXPECT_THROW(folio::prompt_for_task("custom"), folio::Error);
}

TEST(Prompts, InputIdsLayout) {
  const auto& tok = fixture();
  auto ids = folio::build_input_ids(tok, " <image>\n<|grounding|>Convert the document to markdown. ", 5);
  auto after = tok.encode("\n<|grounding|>Convert the document to markdown.");
  std::vector<int32_t> expected{0, 128815, 128815, 128815, 128815, 128815};
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_EQ(ids, expected);
  EXPECT_EQ(after[1], *tok.token_to_id("<|grounding|>"));
}

TEST(Prompts, TextBeforeTheImageAndCustomIds) {
  const auto& tok = fixture();
  auto ids = folio::build_input_ids(tok, "Page:<image>end", 2, /*bos=*/7, /*image_token=*/99);
  auto before = tok.encode("Page:"), after = tok.encode("end");
  std::vector<int32_t> expected{7};
  expected.insert(expected.end(), before.begin(), before.end());
  expected.insert(expected.end(), {99, 99});
  expected.insert(expected.end(), after.begin(), after.end());
  EXPECT_EQ(ids, expected);
}

TEST(Prompts, RequiresExactlyOneImage) {
  const auto& tok = fixture();
  EXPECT_THROW(folio::build_input_ids(tok, "no image here", 3), folio::Error);
  EXPECT_THROW(folio::build_input_ids(tok, "<image><image>", 3), folio::Error);
  EXPECT_THROW(folio::build_input_ids(tok, "<image>", -1), folio::Error);
}

}  // namespace
