#include "serve/server.h"

#include <httplib.h>

#include <chrono>
#include <thread>

#include "core/error.h"
#include "serve/auth.h"
#include "serve/http_error.h"
#include "serve/server_context.h"

namespace folio::serve {
namespace {

// Start time of the request being handled on this thread (httplib runs pre-routing, the
// handler and the logger for one request on one thread).
thread_local std::chrono::steady_clock::time_point request_start;

std::string route_label(const std::string& path) {
  for (const char* route : {"/v1/ocr", "/v1/jobs", "/v1/chat/completions", "/health", "/metrics"})
    if (path.rfind(route, 0) == 0) return route;
  return path.rfind("/v1/", 0) == 0 ? "/v1/other" : "static";
}

std::string default_message(int status, const ServerOptions& options) {
  switch (status) {
    case 404: return "no such route or file";
    case 405: return "method not allowed on this route";
    case 413:
      return "the request body is larger than the upload limit of " + std::to_string(options.max_upload_bytes >> 20) +
             " MB (--max-upload-mb)";
    case 400: return "malformed HTTP request";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

struct Server::Impl {
  ServerContext ctx;
  httplib::Server http;
  std::thread listener;
  int port = 0;
  bool started = false, stopped = false;

  Impl(ServerOptions options, std::shared_ptr<OcrEngine> engine) : ctx(normalise(std::move(options)), std::move(engine)) {
    if (!ctx.options.jobs_db.empty()) {
      ctx.jobs = std::make_unique<JobStore>(ctx.options.jobs_db);
      ctx.runner = std::make_unique<JobRunner>(*ctx.jobs, *ctx.engine, &ctx.metrics);
    }
    configure();
  }

  static ServerOptions normalise(ServerOptions o) {
    if (o.workers <= 0) o.workers = std::max(1u, std::thread::hardware_concurrency());
    return o;
  }

  void configure() {
    const ServerOptions& o = ctx.options;
    // Enough threads that every admitted request (running or queued) has one and 429s are still
    // answered at once; requests beyond that are refused by admission, not queued by httplib.
    size_t threads = static_cast<size_t>(o.workers + o.max_queue + 16);
    http.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
    http.set_payload_max_length(o.max_upload_bytes);
    http.set_read_timeout(60);
    http.set_write_timeout(60);
    if (!o.cors_origin.empty()) {
      http.set_default_headers({{"Access-Control-Allow-Origin", o.cors_origin},
                                {"Access-Control-Allow-Headers", "Authorization, Content-Type, Accept"},
                                {"Access-Control-Allow-Methods", "GET, POST, DELETE, OPTIONS"},
                                {"Access-Control-Expose-Headers", "Retry-After"},
                                {"Vary", "Origin"}});
    }
    http.set_pre_routing_handler([this](const httplib::Request& req, httplib::Response& res) {
      request_start = std::chrono::steady_clock::now();
      if (req.method == "OPTIONS" && !ctx.options.cors_origin.empty()) {
        res.status = 204;
        return httplib::Server::HandlerResponse::Handled;
      }
      if (req.path.rfind("/v1/", 0) == 0 && !ctx.options.api_keys.empty() &&
          !authorized(req.get_header_value("Authorization"), ctx.options.api_keys)) {
        set_error(res, 401, "unauthorized", "missing or wrong API key (send Authorization: Bearer KEY)");
        res.set_header("WWW-Authenticate", "Bearer");
        return httplib::Server::HandlerResponse::Handled;
      }
      return httplib::Server::HandlerResponse::Unhandled;
    });
    http.set_exception_handler([this](const httplib::Request&, httplib::Response& res, std::exception_ptr ep) {
      try {
        std::rethrow_exception(ep);
      } catch (const Error& e) {
        set_error(res, e.kind(), e.what(), ctx.admission.retry_after_seconds());
      } catch (const nlohmann::json::exception& e) {
        set_error(res, ErrorKind::kInvalidInput, std::string("malformed JSON: ") + e.what());
      } catch (const std::exception& e) {
        set_error(res, ErrorKind::kInternal, std::string("internal error: ") + e.what());
      } catch (...) {
        set_error(res, ErrorKind::kInternal, "internal error");
      }
    });
    http.set_error_handler(httplib::Server::HandlerWithResponse([this](const httplib::Request&, httplib::Response& res) {
      if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
      set_error(res, res.status, kind_for_status(res.status), default_message(res.status, ctx.options));
      return httplib::Server::HandlerResponse::Handled;
    }));
    http.set_logger([this](const httplib::Request& req, const httplib::Response& res) {
      double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - request_start).count();
      ctx.metrics.observe_request(route_label(req.path), res.status, seconds);
      if (res.status >= 400) ctx.metrics.count_error(kind_for_status(res.status));
    });
    add_info_routes(http, ctx);
    add_ocr_routes(http, ctx);
    add_job_routes(http, ctx);
    add_chat_routes(http, ctx);
    add_web_routes(http, ctx);
  }
};

Server::Server(ServerOptions options, std::shared_ptr<OcrEngine> engine)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(engine))) {}

Server::~Server() { shutdown(); }

int Server::start() {
  Impl& s = *impl_;
  if (s.started) return s.port;
  const ServerOptions& o = s.ctx.options;
  if (o.port == 0) s.port = s.http.bind_to_any_port(o.host);
  else s.port = s.http.bind_to_port(o.host, o.port) ? o.port : -1;
  if (s.port <= 0) throw unavailable("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (address in use or not local)");
  s.listener = std::thread([&s] { s.http.listen_after_bind(); });
  // stop() is a no-op until the accept loop runs, so wait for it before anyone can call shutdown().
  for (int i = 0; i < 500 && !s.http.is_running(); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  if (s.ctx.runner) s.ctx.runner->start();
  s.started = true;
  return s.port;
}

void Server::shutdown() {
  Impl& s = *impl_;
  if (!s.started || s.stopped) return;
  s.stopped = true;
  ServerContext& ctx = s.ctx;
  ctx.draining = true;
  ctx.admission.close();
  s.http.stop();  // no new connections; requests already read run to the end
  auto grace = std::chrono::seconds(ctx.options.shutdown_grace_s);
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (ctx.admission.in_flight() + ctx.admission.depth() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ctx.admission.abort_waiting();
  ctx.requests.cancel_all();
  s.listener.join();
  if (ctx.runner) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    ctx.runner->stop(std::max(left, std::chrono::milliseconds(0)));
  }
}

std::string Server::url() const { return "http://" + impl_->ctx.options.host + ":" + std::to_string(impl_->port); }

}  // namespace folio::serve
