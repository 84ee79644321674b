// OpenAI-compatible /v1/chat/completions with data: URI images, plain and streaming.
#include <gtest/gtest.h>

#include "support/server_harness.h"
#include "support/text_metrics.h"

namespace folio::testing {
namespace {

std::string base64(const std::string& bytes) {
  static const char* table = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (unsigned char c : bytes) {
    acc = (acc << 8) | c;
    bits += 8;
    while (bits >= 6) {
      bits -= 6;
      out += table[(acc >> bits) & 63];
    }
  }
  if (bits > 0) out += table[(acc << (6 - bits)) & 63];
  while (out.size() % 4) out += '=';
  return out;
}

nlohmann::json chat_body(const std::string& image_url, bool stream) {
  return {{"model", "folio"},
          {"stream", stream},
          {"messages",
           {{{"role", "user"},
             {"content", {{{"type", "image_url"}, {"image_url", {{"url", image_url}}}}}}}}}};
}

const std::vector<std::string> kLines = {"Chat completions read this line.", "And this second line too."};

TEST(Chat, DataUriImageIsRead) {
  TestServer srv(tesseract_engine());
  auto c = srv.client();
  auto r = c->Post("/v1/chat/completions", chat_body("data:image/png;base64," + base64(text_png(kLines)), false).dump(),
                   "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["object"], "chat.completion");
  EXPECT_EQ(body["choices"][0]["message"]["role"], "assistant");
  EXPECT_EQ(body["choices"][0]["finish_reason"], "stop");
  EXPECT_LE(character_error_rate(join_lines(kLines), body["choices"][0]["message"]["content"]), 0.02)
      << body["choices"][0]["message"]["content"];
}

TEST(Chat, StreamSendsChunksAndDone) {
  TestServer srv(tesseract_engine());
  auto c = srv.client();
  auto r = c->Post("/v1/chat/completions", chat_body("data:image/png;base64," + base64(text_png(kLines)), true).dump(),
                   "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto events = parse_sse(r->body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back().data, "[DONE]");
  std::string content;
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto chunk = nlohmann::json::parse(events[i].data);
    EXPECT_EQ(chunk["object"], "chat.completion.chunk");
    const auto& delta = chunk["choices"][0]["delta"];
    if (delta.contains("content")) content += delta["content"].get<std::string>();
  }
  EXPECT_LE(character_error_rate(join_lines(kLines), content), 0.02) << content;
}

TEST(Chat, RemoteUrlsAndBadBodiesAreRefusedWith400) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)));
  auto c = srv.client();
  auto remote = c->Post("/v1/chat/completions", chat_body("https://example.com/scan.png", false).dump(), "application/json");
  expect_json_error(remote, 400, 400, "remote URL");
  EXPECT_NE(remote->body.find("--allow-remote-images"), std::string::npos);
  expect_json_error(c->Post("/v1/chat/completions", "{not json", "application/json"), 400, 400, "bad JSON");
  expect_json_error(c->Post("/v1/chat/completions", R"({"messages":[{"role":"user","content":"hello"}]})", "application/json"),
                    400, 400, "no image");
  expect_json_error(c->Post("/v1/chat/completions", chat_body("data:image/png;base64,AAAA", false).dump(), "application/json"),
                    400, 499, "bad image in data URI");
}

}  // namespace
}  // namespace folio::testing
