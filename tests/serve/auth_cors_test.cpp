// API keys guard /v1/*; /health and /metrics stay open. CORS headers only when configured.
#include <gtest/gtest.h>

#include "serve/auth.h"
#include "support/server_harness.h"

namespace folio::testing {
namespace {

TEST(Auth, ConstantTimeCompareIsStillACompare) {
  EXPECT_TRUE(serve::constant_time_equal("secret", "secret"));
  EXPECT_FALSE(serve::constant_time_equal("secret", "secreT"));
  EXPECT_FALSE(serve::constant_time_equal("secret", "secret2"));
  EXPECT_FALSE(serve::constant_time_equal("", "x"));
  EXPECT_TRUE(serve::authorized("Bearer k2", {"k1", "k2"}));
  EXPECT_FALSE(serve::authorized("Bearer k3", {"k1", "k2"}));
  EXPECT_FALSE(serve::authorized("k1", {"k1"}));
  EXPECT_FALSE(serve::authorized("Bearer ", {""}));
}

TEST(Auth, V1RoutesNeedAKeyHealthAndMetricsDoNot) {
  serve::ServerOptions options;
  options.api_keys = {"alpha-key", "beta-key"};
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto c = srv.client();
  std::string pdf = make_text_pdf(sample_pages(1));
  auto none = post_file(*c, "/v1/ocr", pdf, "a.pdf");
  expect_json_error(none, 401, 401, "no key");
  EXPECT_EQ(nlohmann::json::parse(none->body)["error"]["kind"], "unauthorized");
  expect_json_error(post_file(*c, "/v1/ocr", pdf, "a.pdf", {}, {{"Authorization", "Bearer wrong"}}), 401, 401, "wrong key");
  expect_json_error(c->Get("/v1/jobs/0123456789abcdef"), 401, 401, "jobs without key");
  auto good = post_file(*c, "/v1/ocr", pdf, "a.pdf", {}, {{"Authorization", "Bearer beta-key"}});
  ASSERT_TRUE(good);
  EXPECT_EQ(good->status, 200) << good->body;
  EXPECT_EQ(c->Get("/health")->status, 200);
  EXPECT_EQ(c->Get("/metrics")->status, 200);
  EXPECT_FALSE(c->Get("/health")->has_header("Access-Control-Allow-Origin")) << "CORS is off unless configured";
}

TEST(Cors, HeadersAndPreflightWhenConfigured) {
  serve::ServerOptions options;
  options.cors_origin = "https://app.example";
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto c = srv.client();
  auto health = c->Get("/health");
  ASSERT_TRUE(health);
  EXPECT_EQ(health->get_header_value("Access-Control-Allow-Origin"), "https://app.example");
  auto preflight = c->Options("/v1/ocr");
  ASSERT_TRUE(preflight);
  EXPECT_EQ(preflight->status, 204);
  EXPECT_NE(preflight->get_header_value("Access-Control-Allow-Methods").find("POST"), std::string::npos);
}

}  // namespace
}  // namespace folio::testing
