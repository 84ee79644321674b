// /health reports engine, queue and memory; /metrics is Prometheus text whose counters move.
#include <gtest/gtest.h>

#include <regex>

#include "support/server_harness.h"

namespace folio::testing {
namespace {

double metric(const std::string& text, const std::string& name) {
  std::regex line("(^|\n)" + std::regex_replace(name, std::regex(R"([{}\"\+\.])"), R"(\$&)") + R"( ([0-9.e+-]+))");
  std::smatch m;
  if (!std::regex_search(text, m, line)) return -1;
  return std::stod(m[2]);
}

TEST(HealthMetrics, HealthDescribesEngineQueueAndMemory) {
  serve::ServerOptions options;
  options.max_queue = 7;
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto c = srv.client();
  auto r = c->Get("/health");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  auto h = nlohmann::json::parse(r->body);
  EXPECT_EQ(h["status"], "ok");
  EXPECT_EQ(h["engine"], "fake");
  EXPECT_EQ(h["model"], "fake-model");
  EXPECT_EQ(h["queue"]["capacity"], 7);
  EXPECT_EQ(h["queue"]["depth"], 0);
  EXPECT_GT(h["memory"]["rss_bytes"].get<double>(), 0);
}

TEST(HealthMetrics, MetricsCountRequestsPagesTokensAndErrors) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1), std::vector<int>{2}));
  auto c = srv.client();
  // One connection: the server records a request's metrics before it reads the next one on the
  // same connection (separate connections could read /metrics before the previous log ran).
  c->set_keep_alive(true);
  auto r = post_file(*c, "/v1/ocr", make_text_pdf(sample_pages(3)), "a.pdf");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  post_file(*c, "/v1/ocr", "not an image", "x.txt");
  auto m = c->Get("/metrics");
  ASSERT_TRUE(m);
  ASSERT_EQ(m->status, 200);
  const std::string& text = m->body;
  EXPECT_EQ(metric(text, "folio_pages_total{finish_reason=\"stop\"}"), 2);
  EXPECT_EQ(metric(text, "folio_pages_total{finish_reason=\"error\"}"), 1);
  EXPECT_EQ(metric(text, "folio_tokens_total"), 4);
  EXPECT_EQ(metric(text, "folio_errors_total{kind=\"invalid_input\"}"), 1);
  EXPECT_EQ(metric(text, "folio_memory_failures_total"), 0);
  EXPECT_EQ(metric(text, "folio_repetition_stops_total"), 0);
  EXPECT_EQ(metric(text, "folio_queue_depth"), 0);
  EXPECT_EQ(metric(text, "folio_in_flight"), 0);
  EXPECT_EQ(metric(text, "folio_request_duration_seconds_count{route=\"/v1/ocr\"}"), 2);
  EXPECT_EQ(metric(text, "folio_request_duration_seconds_bucket{route=\"/v1/ocr\",le=\"+Inf\"}"), 2);
}

TEST(HealthMetrics, RootServesTheNotBuiltPageWithoutAWebDir) {
  serve::ServerOptions options;
  options.web_dir = "/nonexistent/web/dist";
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto r = srv.client()->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("npm run build"), std::string::npos);
}

TEST(HealthMetrics, RootServesTheBuiltPageFromTheWebDir) {
  TempDir web;
  { std::ofstream(web.file("index.html")) << "<html>folio web page</html>"; }
  serve::ServerOptions options;
  options.web_dir = web.file("");
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(1)), options);
  auto r = srv.client()->Get("/");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->body.find("folio web page"), std::string::npos);
  EXPECT_EQ(srv.client()->Get("/health")->status, 200) << "API routes still answer beside the files";
}

}  // namespace
}  // namespace folio::testing
