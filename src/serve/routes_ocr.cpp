// POST /v1/ocr: a document in, every page out (JSON, or SSE page/token events as pages finish).
// Order of checks: form -> cache -> admission (429) -> open the document (4xx before any byte of
// a stream is sent) -> wait for a worker -> pages.
#include <httplib.h>

#include "core/error.h"
#include "serve/digest.h"
#include "serve/form.h"
#include "serve/http_error.h"
#include "serve/server_context.h"
#include "serve/sse.h"

namespace folio::serve {
namespace {

bool wants_event_stream(const httplib::Request& req) {
  return req.get_header_value("Accept").find("text/event-stream") != std::string::npos;
}

bool cacheable(const std::vector<nlohmann::json>& pages) {
  for (const auto& p : pages)
    if (p["finish_reason"] == "error" || p["finish_reason"] == "cancelled") return false;
  return !pages.empty();
}

nlohmann::json response_body(const ServerContext& ctx, const nlohmann::json& pages) {
  return {{"pages", pages}, {"engine", ctx.engine_info.engine}, {"model", ctx.engine_info.model}};
}

std::function<std::string()> cancel_reason(const ServerContext& ctx, std::shared_ptr<RequestControl> control) {
  int timeout = ctx.options.request_timeout_s;
  return [control, timeout] {
    if (control->timed_out)
      return "the request timed out after " + std::to_string(timeout) + " s; submit long documents to /v1/jobs";
    return std::string("cancelled: the client went away or the server is shutting down");
  };
}

void stream_cached(httplib::Response& res, nlohmann::json pages) {
  res.set_chunked_content_provider("text/event-stream", [pages](size_t, httplib::DataSink& sink) {
    SseWriter sse(sink, nullptr);
    for (const auto& page : pages)
      if (!sse.event("page", page.dump())) return false;
    sse.event("done", nlohmann::json{{"pages", pages.size()}}.dump());
    sse.done();
    return true;
  });
}

}  // namespace

void add_ocr_routes(httplib::Server& http, ServerContext& ctx) {
  http.Post("/v1/ocr", [&ctx](const httplib::Request& req, httplib::Response& res) {
    OcrForm form = read_ocr_form(req);
    bool stream = wants_event_stream(req);
    std::string key = sha256_hex(form.bytes) + "|" + form.options.fingerprint() + "|" + ctx.engine_info.engine + "|" +
                      ctx.engine_info.model;
    if (auto cached = ctx.cache.get(key)) {
      ctx.metrics.count_cache(true);
      if (stream) stream_cached(res, *cached);
      else res.set_content(response_body(ctx, *cached).dump(), "application/json");
      return;
    }
    ctx.metrics.count_cache(false);
    std::shared_ptr<Admission::Ticket> ticket = ctx.admission.enter();
    auto doc = std::make_shared<OpenedDocument>(open_document(std::move(form.bytes), form.filename, form.options));
    auto control = ctx.requests.start(ctx.request_timeout());
    OcrOptions options = form.options;

    if (!stream) {
      ticket->wait_for_slot(control->deadline);
      auto pages = run_document(*ctx.engine, *doc, options, &control->cancel, cancel_reason(ctx, control), {}, &ctx.metrics);
      if (cacheable(pages)) ctx.cache.put(key, pages);
      res.set_content(response_body(ctx, pages).dump(), "application/json");
      return;
    }
    res.set_header("Cache-Control", "no-cache");
    res.set_header("X-Accel-Buffering", "no");
    res.set_chunked_content_provider(
        "text/event-stream", [&ctx, ticket, doc, control, options, key](size_t, httplib::DataSink& sink) {
          SseWriter sse(sink, [control] { control->cancel = true; });
          try {
            ticket->wait_for_slot(control->deadline);
          } catch (const Error& e) {
            sse.event("error", error_json(error_kind_name(e.kind()), e.what()));
            sse.done();
            return true;
          }
          PageSink sink_out;
          sink_out.on_page = [&](const nlohmann::json& page) { sse.event("page", page.dump()); };
          sink_out.on_token = [&](int page, std::string_view text) {
            sse.event("token", nlohmann::json{{"page", page}, {"text", std::string(text)}}.dump());
          };
          try {
            auto pages = run_document(*ctx.engine, *doc, options, &control->cancel, cancel_reason(ctx, control), sink_out,
                                      &ctx.metrics);
            if (cacheable(pages)) ctx.cache.put(key, pages);
            sse.event("done", nlohmann::json{{"pages", pages.size()}}.dump());
          } catch (const Error& e) {
            sse.event("error", error_json(error_kind_name(e.kind()), e.what()));
          } catch (const std::exception& e) {
            sse.event("error", error_json("internal", e.what()));
          }
          sse.done();
          return true;
        });
  });
}

}  // namespace folio::serve
