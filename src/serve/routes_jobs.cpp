// /v1/jobs: long documents processed in the background with durable progress (job_store.h).
#include <httplib.h>

#include <fstream>
#include <sstream>

#include "core/error.h"
#include "image/io/encode.h"
#include "serve/form.h"
#include "serve/server_context.h"

namespace folio::serve {
namespace {

JobStore& store(ServerContext& ctx) {
  if (!ctx.jobs) throw unavailable("jobs are disabled on this server (started with an empty --jobs-db)");
  return *ctx.jobs;
}

JobRecord find_job(ServerContext& ctx, const std::string& id) {
  auto job = store(ctx).get(id);
  if (!job) throw not_found("job " + id + " does not exist");
  return *job;
}

nlohmann::json job_summary(const JobRecord& job) {
  nlohmann::json j = {{"id", job.id},
                      {"status", job.status},
                      {"filename", job.filename},
                      {"pages_total", job.pages_total},
                      {"pages_done", job.pages_done},
                      {"created_at", job.created_at}};
  if (!job.error.empty()) j["error"] = job.error;
  return j;
}

void cancel_job(ServerContext& ctx, const httplib::Request& req, httplib::Response& res) {
  std::string id = req.matches[1];
  JobRecord job = find_job(ctx, id);
  if (store(ctx).cancel(id) && ctx.runner) ctx.runner->cancel(id);
  res.set_content(job_summary(find_job(ctx, id)).dump(), "application/json");
}

}  // namespace

void add_job_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/jobs", [&ctx](const httplib::Request& req, httplib::Response& res) {
    JobStore& jobs = store(ctx);
    if (ctx.draining) throw unavailable("the server is shutting down; submit the job again after the restart");
    OcrForm form = read_ocr_form(req);
    // Opened once here to reject unreadable files with a 4xx and to count the pages. The document
    // and the store share the one copy of the upload (a copy more was a peak that grew with the
    // document's size).
    auto bytes = std::make_shared<const std::string>(std::move(form.bytes));
    OpenedDocument doc = open_document(bytes, form.filename, form.options);
    nlohmann::json options = form.options.to_json();
    options["page_list"] = doc.pages;
    std::string id = jobs.create(form.filename, *bytes, options, static_cast<int>(doc.pages.size()));
    if (ctx.runner) ctx.runner->notify();
    res.status = 202;
    res.set_content(nlohmann::json{{"id", id}, {"status", "queued"}, {"pages_total", doc.pages.size()}}.dump(),
                    "application/json");
  });
  http.Get(R"(/v1/jobs/([0-9a-f]+))", [&ctx](const httplib::Request& req, httplib::Response& res) {
    JobRecord job = find_job(ctx, req.matches[1]);
    nlohmann::json body = job_summary(job);
    // ?include_pages=0 gives progress only (cheap polling of long jobs).
    if (req.get_param_value("include_pages") != "0") body["pages"] = store(ctx).pages(job.id);
    res.set_content(body.dump(), "application/json");
  });
  http.Delete(R"(/v1/jobs/([0-9a-f]+))", [&ctx](const httplib::Request& req, httplib::Response& res) { cancel_job(ctx, req, res); });
  http.Post(R"(/v1/jobs/([0-9a-f]+)/cancel)", [&ctx](const httplib::Request& req, httplib::Response& res) { cancel_job(ctx, req, res); });
  http.Get(R"(/v1/jobs/([0-9a-f]+)/pages/(\d+)/image)", [&ctx](const httplib::Request& req, httplib::Response& res) {
    JobRecord job = find_job(ctx, req.matches[1]);
    std::ifstream in(job.document_path, std::ios::binary);
    if (!in) throw not_found("the document of job " + job.id + " is no longer stored");
    std::ostringstream bytes;
    bytes << in.rdbuf();
    OcrOptions options = OcrOptions::from_json(job.options);
    options.pages.clear();
    OpenedDocument doc = open_document(bytes.str(), job.filename, options);
    std::string index_text = req.matches[2];
    int index = index_text.size() > 6 ? -1 : std::stoi(index_text);
    if (index < 0 || index >= doc.document->page_count())
      throw not_found("job " + job.id + " has no page " + index_text + " (pages are numbered from 0)");
    Image image = doc.paged ? doc.document->render_page(index) : std::move(doc.single_page);
    res.set_content(encode_png(image), "image/png");
  });
}

}  // namespace folio::serve
