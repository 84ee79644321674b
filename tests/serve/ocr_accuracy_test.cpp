// Pages rendered from known text come back through POST /v1/ocr from the default (Tesseract)
// engine with a character error rate <= 2%, as JSON and as a server-sent event stream.
#include <gtest/gtest.h>

#include "support/server_harness.h"
#include "support/text_metrics.h"

namespace folio::testing {
namespace {

TEST(OcrAccuracy, PngImageThroughHttpHasLowCharacterErrorRate) {
  TestServer srv(tesseract_engine());
  auto lines = sample_pages(1)[0];
  auto c = srv.client();
  auto r = post_file(*c, "/v1/ocr", text_png(lines), "sample.png");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["engine"], "tesseract");
  ASSERT_EQ(body["pages"].size(), 1u);
  const auto& page = body["pages"][0];
  EXPECT_EQ(page["finish_reason"], "stop");
  EXPECT_TRUE(page["error"].is_null());
  double cer = character_error_rate(join_lines(lines), page["text"]);
  std::printf("[ cer      ] png: %.4f\n", cer);
  EXPECT_LE(cer, 0.02) << "OCR text: " << page["text"];
  EXPECT_EQ(page["raw"], page["text"]);
  // Blocks carry pixel boxes inside the page.
  ASSERT_FALSE(page["blocks"].empty());
  for (const auto& block : page["blocks"]) {
    auto box = block["box"];
    EXPECT_LT(box[0].get<int>(), box[2].get<int>());
    EXPECT_LT(box[1].get<int>(), box[3].get<int>());
    EXPECT_LE(box[2].get<int>(), page["width"].get<int>());
    EXPECT_LE(box[3].get<int>(), page["height"].get<int>());
  }
}

TEST(OcrAccuracy, MultiPagePdfEveryPageInOrderWithLowCharacterErrorRate) {
  TestServer srv(tesseract_engine());
  auto pages = sample_pages(3);
  auto c = srv.client();
  auto r = post_file(*c, "/v1/ocr", make_text_pdf(pages), "sample.pdf", {{"dpi", "144", "", ""}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  ASSERT_EQ(body["pages"].size(), 3u);
  for (int i = 0; i < 3; ++i) {
    const auto& page = body["pages"][i];
    EXPECT_EQ(page["index"], i);
    double cer = character_error_rate(join_lines(pages[i]), page["text"]);
    std::printf("[ cer      ] pdf page %d: %.4f\n", i, cer);
    EXPECT_LE(cer, 0.02) << "page " << i << " OCR text: " << page["text"];
    EXPECT_NE(page["markdown"].get<std::string>().find("\n\n"), std::string::npos)
        << "paragraphs are separated by blank lines";
  }
}

TEST(OcrAccuracy, PageRangeSelectsPages) {
  TestServer srv(tesseract_engine());
  auto pages = sample_pages(3);
  auto c = srv.client();
  auto r = post_file(*c, "/v1/ocr", make_text_pdf(pages), "sample.pdf", {{"pages", "2", "", ""}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  ASSERT_EQ(body["pages"].size(), 1u);
  EXPECT_EQ(body["pages"][0]["index"], 1);
  EXPECT_LE(character_error_rate(join_lines(pages[1]), body["pages"][0]["text"]), 0.02);
  auto bad = post_file(*c, "/v1/ocr", make_text_pdf(pages), "sample.pdf", {{"pages", "2-9", "", ""}});
  expect_json_error(bad, 400, 400, "page range beyond the document");
}

TEST(OcrAccuracy, StreamsOnePageEventPerPageThenDone) {
  TestServer srv(tesseract_engine());
  auto pages = sample_pages(2);
  auto c = srv.client();
  std::string body;
  std::vector<std::chrono::steady_clock::time_point> arrivals;
  httplib::MultipartFormDataItems items = {{"file", make_text_pdf(pages), "sample.pdf", "application/pdf"}};
  auto r = c->Post("/v1/ocr", {{"Accept", "text/event-stream"}}, items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->get_header_value("Content-Type").find("text/event-stream"), std::string::npos);
  auto events = parse_sse(r->body);
  std::vector<nlohmann::json> page_events;
  int tokens = 0;
  for (const auto& e : events) {
    if (e.event == "page") page_events.push_back(nlohmann::json::parse(e.data));
    if (e.event == "token") ++tokens;
    EXPECT_NE(e.event, "error") << e.data;
  }
  ASSERT_EQ(page_events.size(), 2u);
  for (int i = 0; i < 2; ++i) {
    EXPECT_EQ(page_events[i]["index"], i);
    EXPECT_LE(character_error_rate(join_lines(pages[i]), page_events[i]["text"]), 0.02);
  }
  EXPECT_GT(tokens, 0) << "the engine's text pieces are streamed as token events";
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().event, "done");
  EXPECT_EQ(nlohmann::json::parse(events.back().data)["pages"], 2);
}

TEST(OcrAccuracy, SecondIdenticalRequestIsServedFromTheCache) {
  auto engine = std::make_shared<FakeEngine>(std::chrono::milliseconds(1));
  TestServer srv(engine);
  auto c = srv.client();
  std::string pdf = make_text_pdf(sample_pages(2));
  auto first = post_file(*c, "/v1/ocr", pdf, "a.pdf");
  ASSERT_TRUE(first);
  ASSERT_EQ(first->status, 200);
  int calls = engine->calls;
  EXPECT_EQ(calls, 2);
  auto second = post_file(*c, "/v1/ocr", pdf, "b.pdf");
  ASSERT_TRUE(second);
  EXPECT_EQ(nlohmann::json::parse(second->body)["pages"], nlohmann::json::parse(first->body)["pages"]);
  EXPECT_EQ(engine->calls, calls) << "cache hit must not run the engine";
  auto other_mode = post_file(*c, "/v1/ocr", pdf, "b.pdf", {{"mode", "tiny", "", ""}});
  ASSERT_TRUE(other_mode);
  EXPECT_EQ(engine->calls, calls + 2) << "different options are a different cache key";
}

}  // namespace
}  // namespace folio::testing
