// /v1/jobs: background processing with durable per-page results, page images, cancel, and resume
// after `kill -9` of the real binary with every page recorded exactly once.
#include <gtest/gtest.h>

#include <set>

#include "support/child_server.h"
#include "support/server_harness.h"
#include "support/text_metrics.h"

namespace folio::testing {
namespace {

nlohmann::json get_job(httplib::Client& c, const std::string& id) {
  auto r = c.Get(("/v1/jobs/" + id).c_str());
  if (!r || r->status != 200) return nullptr;
  return nlohmann::json::parse(r->body);
}

// Polls until `done(job)` or the timeout; returns the last job state seen.
template <class Pred>
nlohmann::json wait_job(httplib::Client& c, const std::string& id, Pred done, std::chrono::seconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  nlohmann::json job;
  while (std::chrono::steady_clock::now() < end) {
    job = get_job(c, id);
    if (!job.is_null() && done(job)) return job;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return job;
}

std::string submit(httplib::Client& c, const std::string& pdf) {
  auto r = post_file(c, "/v1/jobs", pdf, "doc.pdf");
  EXPECT_TRUE(r);
  if (!r) return "";
  EXPECT_EQ(r->status, 202) << r->body;
  auto body = nlohmann::json::parse(r->body);
  EXPECT_EQ(body["status"], "queued");
  return body["id"];
}

TEST(Jobs, JobRunsEveryPageAndServesPageImages) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(20)));
  auto c = srv.client();
  std::string id = submit(*c, make_text_pdf(sample_pages(4)));
  auto job = wait_job(*c, id, [](const nlohmann::json& j) { return j["status"] == "done"; }, std::chrono::seconds(30));
  ASSERT_EQ(job["status"], "done") << job.dump();
  EXPECT_EQ(job["pages_total"], 4);
  EXPECT_EQ(job["pages_done"], 4);
  ASSERT_EQ(job["pages"].size(), 4u);
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(job["pages"][i]["index"], i);
    EXPECT_EQ(job["pages"][i]["text"], "page " + std::to_string(i));
  }
  auto image = c->Get(("/v1/jobs/" + id + "/pages/2/image").c_str());
  ASSERT_TRUE(image);
  ASSERT_EQ(image->status, 200);
  EXPECT_EQ(image->get_header_value("Content-Type"), "image/png");
  EXPECT_EQ(image->body.substr(0, 8), std::string("\x89PNG\r\n\x1a\n", 8));
  expect_json_error(c->Get(("/v1/jobs/" + id + "/pages/9/image").c_str()), 404, 404, "page beyond the document");
}

TEST(Jobs, CancelStopsAJob) {
  TestServer srv(std::make_shared<FakeEngine>(std::chrono::milliseconds(300)));
  auto c = srv.client();
  std::string id = submit(*c, make_text_pdf(sample_pages(20)));
  wait_job(*c, id, [](const nlohmann::json& j) { return j["pages_done"] >= 1; }, std::chrono::seconds(20));
  auto r = c->Delete(("/v1/jobs/" + id).c_str());
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(nlohmann::json::parse(r->body)["status"], "cancelled");
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  auto job = get_job(*c, id);
  EXPECT_EQ(job["status"], "cancelled");
  EXPECT_LT(job["pages_done"].get<int>(), 20);
  int done = job["pages_done"];
  std::this_thread::sleep_for(std::chrono::milliseconds(700));
  EXPECT_EQ(get_job(*c, id)["pages_done"], done) << "no page runs after cancel";
}

TEST(Jobs, JobKilledWithSigkillFinishesAfterRestartWithEveryPageExactlyOnce) {
  TempDir dir;
  const int n = 6;
  auto pages = sample_pages(n);
  std::vector<std::string> args = {"--jobs-db", dir.file("jobs.sqlite"), "--workers", "1"};
  std::string id;
  int done_before_kill = 0;
  {
    ChildServer first(args);
    httplib::Client c("127.0.0.1", first.port());
    c.set_read_timeout(60, 0);
    id = submit(c, make_text_pdf(pages));
    auto job = wait_job(c, id, [](const nlohmann::json& j) { return j["pages_done"] >= 2; }, std::chrono::seconds(120));
    done_before_kill = job["pages_done"];
    first.kill_now(SIGKILL);
  }
  ASSERT_GE(done_before_kill, 2);
  ASSERT_LT(done_before_kill, n) << "the job finished before the kill; the test needs slower pages";
  ChildServer second(args);
  httplib::Client c("127.0.0.1", second.port());
  c.set_read_timeout(60, 0);
  auto job = wait_job(c, id, [](const nlohmann::json& j) { return j["status"] == "done"; }, std::chrono::seconds(180));
  ASSERT_EQ(job["status"], "done") << job.dump().substr(0, 500);
  EXPECT_EQ(job["pages_done"], n);
  ASSERT_EQ(job["pages"].size(), size_t(n));
  std::set<int> seen;
  for (const auto& page : job["pages"]) {
    int index = page["index"];
    EXPECT_TRUE(seen.insert(index).second) << "page " << index << " recorded twice";
    EXPECT_LE(character_error_rate(join_lines(pages[index]), page["text"]), 0.02) << page["text"];
  }
  EXPECT_EQ(seen.size(), size_t(n));
  EXPECT_EQ(second.terminate(std::chrono::seconds(30)), 0) << "SIGTERM shuts down cleanly";
}

}  // namespace
}  // namespace folio::testing
