// What the route handlers share: options, the engine and the server's bookkeeping. Owned by
// Server; handlers hold a reference for the server's lifetime.
#pragma once
#include <atomic>
#include <memory>

#include "engine/ocr_engine.h"
#include "serve/admission.h"
#include "serve/job_runner.h"
#include "serve/job_store.h"
#include "serve/metrics.h"
#include "serve/request_control.h"
#include "serve/result_cache.h"
#include "serve/server_options.h"

namespace httplib {
class Server;
}

namespace folio::serve {

struct ServerContext {
  ServerOptions options;
  std::shared_ptr<OcrEngine> engine;
  EngineInfo engine_info;
  Admission admission;
  RequestRegistry requests;
  Metrics metrics;
  ResultCache cache;
  std::unique_ptr<JobStore> jobs;      // null when --jobs-db is empty
  std::unique_ptr<JobRunner> runner;
  std::atomic<bool> draining{false};

  ServerContext(ServerOptions opts, std::shared_ptr<OcrEngine> eng)
      : options(std::move(opts)),
        engine(std::move(eng)),
        engine_info(engine->info()),
        admission(options.workers, options.max_queue),
        cache(options.cache_entries) {}

  std::chrono::milliseconds request_timeout() const { return std::chrono::seconds(options.request_timeout_s); }
};

// Route groups (one file each).
void add_ocr_routes(httplib::Server& http, ServerContext& ctx);
void add_job_routes(httplib::Server& http, ServerContext& ctx);
void add_chat_routes(httplib::Server& http, ServerContext& ctx);
void add_info_routes(httplib::Server& http, ServerContext& ctx);  // /health, /metrics
void add_web_routes(httplib::Server& http, ServerContext& ctx);   // the page (web/dist or a notice)

}  // namespace folio::serve
