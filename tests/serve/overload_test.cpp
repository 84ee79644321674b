// Overload gets 429 with Retry-After, never a 5xx; a request past --request-timeout-s ends with
// its pages marked cancelled instead of hanging.
#include <gtest/gtest.h>

#include <future>
#include <thread>

#include "support/server_harness.h"

namespace folio::testing {
namespace {

TEST(Overload, BeyondTheQueueRequestsGet429WithRetryAfterAndNever5xx) {
  serve::ServerOptions options;
  options.workers = 1;
  options.max_queue = 1;
  options.cache_entries = 0;
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(2500)), options);
  std::string pdf = make_text_pdf(sample_pages(1));
  auto send = [&] {
    auto c = srv.client();
    auto r = post_file(*c, "/v1/ocr", pdf, "a.pdf");
    if (!r) return std::pair<int, std::string>(-1, std::string());
    return std::pair<int, std::string>(r->status, r->get_header_value("Retry-After"));
  };
  // One request occupies the only worker first, so the burst below meets a busy server however
  // the threads get scheduled (on a loaded 2-core CI machine they may start far apart).
  auto first = std::async(std::launch::async, send);
  auto probe = srv.client();
  for (int i = 0; i < 200; ++i) {
    auto h = probe->Get("/health");
    if (h && nlohmann::json::parse(h->body)["queue"]["in_flight"].get<int>() >= 1) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  const int n = 7;
  std::vector<std::future<std::pair<int, std::string>>> results;
  for (int i = 0; i < n; ++i) results.push_back(std::async(std::launch::async, send));
  int ok = 0, refused = 0;
  for (auto& f : results) {
    auto [status, retry_after] = f.get();
    ASSERT_NE(status, -1) << "a request got no response";
    EXPECT_LT(status, 500) << "overload must never be a 5xx";
    if (status == 200) ++ok;
    if (status == 429) {
      ++refused;
      ASSERT_FALSE(retry_after.empty()) << "429 without Retry-After";
      EXPECT_GE(std::stoi(retry_after), 1);
    }
  }
  EXPECT_EQ(first.get().first, 200) << "the running request is served";
  EXPECT_EQ(ok + refused, n);
  EXPECT_GE(ok, 1) << "the queued request is served";
  EXPECT_GE(refused, n - 2) << "beyond the running and the queued request, the burst is refused";
  // Once the burst is over the server accepts work again.
  auto c = srv.client();
  auto after = post_file(*c, "/v1/ocr", pdf, "a.pdf");
  ASSERT_TRUE(after);
  EXPECT_EQ(after->status, 200);
}

TEST(Overload, RequestPastItsTimeoutEndsWithCancelledPages) {
  serve::ServerOptions options;
  options.request_timeout_s = 1;
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(700)), options);
  auto c = srv.client();
  auto start = std::chrono::steady_clock::now();
  auto r = post_file(*c, "/v1/ocr", make_text_pdf(sample_pages(4)), "long.pdf");
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  auto pages = nlohmann::json::parse(r->body)["pages"];
  ASSERT_EQ(pages.size(), 4u) << "every page is reported";
  EXPECT_EQ(pages[0]["finish_reason"], "stop");
  EXPECT_EQ(pages[3]["finish_reason"], "cancelled");
  EXPECT_NE(pages[3]["error"].get<std::string>().find("timed out"), std::string::npos) << pages[3]["error"];
  EXPECT_LT(seconds, 2.5) << "the timeout stopped the work";
}

}  // namespace
}  // namespace folio::testing

namespace folio::testing {
namespace {

TEST(Shutdown, InFlightRequestFinishesThenNewConnectionsAreRefused) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(400)));
  std::string pdf = make_text_pdf(sample_pages(2));
  auto in_flight = std::async(std::launch::async, [&] {
    auto c = srv.client();
    auto r = post_file(*c, "/v1/ocr", pdf, "a.pdf");
    return r ? r->status : -1;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(200));  // the request is being processed
  srv.server->shutdown();
  EXPECT_EQ(in_flight.get(), 200) << "a request in flight at shutdown is finished, not dropped";
  auto c = srv.client(2);
  EXPECT_FALSE(c->Get("/health")) << "no new connections after shutdown";
}

}  // namespace
}  // namespace folio::testing
