// Malformed or oversized input gets a 4xx JSON error and the server keeps serving; an error on
// one page of a document is reported on that page, never a missing page.
#include <gtest/gtest.h>

#include "support/server_harness.h"

namespace folio::testing {
namespace {

std::string gif_declaring(int width, int height) {
  std::string gif = "GIF89a";
  gif += static_cast<char>(width & 0xFF);
  gif += static_cast<char>(width >> 8);
  gif += static_cast<char>(height & 0xFF);
  gif += static_cast<char>(height >> 8);
  gif += std::string("\x80\x00\x00", 3);                   // global colour table, 2 colours
  gif += std::string("\x00\x00\x00\xff\xff\xff", 6);
  gif += std::string("\x2c\x00\x00\x00\x00", 5) + gif.substr(6, 4) + std::string("\x00\x02\x02\x44\x01\x00\x3b", 7);
  return gif;
}

void expect_still_serving(TestServer& srv) {
  auto c = srv.client();
  auto health = c->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->status, 200);
  auto ok = post_file(*c, "/v1/ocr", make_text_pdf(sample_pages(1)), "good.pdf");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(BadInput, EachBadFileGetsA4xxJsonErrorAndTheServerKeepsServing) {
  serve::ServerOptions options;
  options.max_upload_bytes = 1 << 20;
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto c = srv.client();
  std::string pdf = make_text_pdf(sample_pages(3));
  std::string png = text_png({"A line of text"});

  expect_json_error(post_file(*c, "/v1/ocr", pdf.substr(0, pdf.size() / 2), "cut.pdf"), 400, 499, "truncated PDF");
  expect_json_error(post_file(*c, "/v1/ocr", pdf.substr(0, 12), "stub.pdf"), 400, 499, "PDF header only");
  expect_json_error(post_file(*c, "/v1/ocr", png.substr(0, png.size() / 2), "cut.png"), 400, 499, "truncated PNG");
  expect_json_error(post_file(*c, "/v1/ocr", png.substr(0, 30), "header.png"), 400, 499, "PNG header only");
  expect_json_error(post_file(*c, "/v1/ocr", "just some text, not an image\n", "notes.txt"), 400, 499, "non-image");
  expect_json_error(post_file(*c, "/v1/ocr", gif_declaring(10000, 10000), "huge.gif"), 400, 499, "GIF 10000x10000");
  auto big = post_file(*c, "/v1/ocr", std::string(2 << 20, 'x'), "big.bin");
  expect_json_error(big, 413, 413, "over-limit body");
  expect_json_error(c->Post("/v1/ocr", "{}", "application/json"), 400, 400, "not multipart");
  expect_json_error(post_file(*c, "/v1/ocr", pdf, "a.pdf", {{"mode", "enormous", "", ""}}), 400, 400, "bad mode");
  expect_json_error(post_file(*c, "/v1/ocr", pdf, "a.pdf", {{"dpi", "abc", "", ""}}), 400, 400, "bad dpi");
  expect_json_error(c->Get("/v1/nothing-here"), 404, 404, "unknown route");
  // The same bad inputs as jobs are refused before a job is created.
  expect_json_error(post_file(*c, "/v1/jobs", pdf.substr(0, pdf.size() / 2), "cut.pdf"), 400, 499, "truncated PDF job");
  expect_json_error(c->Get("/v1/jobs/0123456789abcdef"), 404, 404, "unknown job");
  expect_still_serving(srv);
}

TEST(BadInput, StreamingRequestWithBadFileGetsJsonErrorNotAStream) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)));
  auto c = srv.client();
  std::string png = text_png({"A line of text"});
  httplib::MultipartFormDataItems items = {{"file", png.substr(0, png.size() / 3), "cut.png", "image/png"}};
  expect_json_error(c->Post("/v1/ocr", {{"Accept", "text/event-stream"}}, items), 400, 499, "truncated PNG, SSE");
  expect_still_serving(srv);
}

TEST(BadInput, AnErrorOnOnePageIsReportedOnThatPage) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1), std::vector<int>{1}));
  auto c = srv.client();
  auto r = post_file(*c, "/v1/ocr", make_text_pdf(sample_pages(3)), "doc.pdf");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto pages = nlohmann::json::parse(r->body)["pages"];
  ASSERT_EQ(pages.size(), 3u);
  EXPECT_EQ(pages[0]["finish_reason"], "stop");
  EXPECT_EQ(pages[1]["index"], 1);
  EXPECT_EQ(pages[1]["finish_reason"], "error");
  EXPECT_NE(pages[1]["error"].get<std::string>().find("page 2"), std::string::npos) << pages[1]["error"];
  EXPECT_EQ(pages[2]["finish_reason"], "stop");
  EXPECT_EQ(pages[2]["text"], "page 2");
}

}  // namespace
}  // namespace folio::testing
