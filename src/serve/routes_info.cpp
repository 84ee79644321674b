// GET /health and GET /metrics (no auth: for load balancers and Prometheus).
#include <httplib.h>

#include <fstream>
#include <string>

#include "serve/server_context.h"

namespace folio::serve {
namespace {

// VmRSS / VmHWM of this process in bytes (Linux), 0 when unavailable.
double proc_status_bytes(const std::string& field) {
  std::ifstream in("/proc/self/status");
  for (std::string line; std::getline(in, line);)
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
  return 0;
}

QueueFigures queue_figures(const ServerContext& ctx) {
  return {ctx.admission.depth(), ctx.admission.capacity(), ctx.admission.in_flight(), ctx.admission.workers()};
}

}  // namespace

void add_info_routes(httplib::Server& http, ServerContext& ctx) {
  http.Get("/health", [&ctx](const httplib::Request&, httplib::Response& res) {
    EngineInfo info = ctx.engine->info();
    nlohmann::json memory = {{"rss_bytes", proc_status_bytes("VmRSS")}, {"peak_rss_bytes", proc_status_bytes("VmHWM")}};
    for (const auto& [name, value] : info.memory) memory["engine_" + name] = value;
    QueueFigures q = queue_figures(ctx);
    nlohmann::json body = {{"status", ctx.draining ? "draining" : "ok"},
                           {"engine", info.engine},
                           {"model", info.model},
                           {"device", info.device},
                           {"queue", {{"depth", q.depth}, {"capacity", q.capacity}, {"in_flight", q.in_flight}, {"workers", q.workers}}},
                           {"memory", memory},
                           {"jobs", ctx.jobs != nullptr},
                           {"cache_entries", ctx.cache.size()}};
    res.status = ctx.draining ? 503 : 200;
    res.set_content(body.dump(), "application/json");
  });
  http.Get("/metrics", [&ctx](const httplib::Request&, httplib::Response& res) {
    std::string text = ctx.metrics.render(queue_figures(ctx));
    text += "# HELP folio_process_resident_bytes Resident memory of the server.\n"
            "# TYPE folio_process_resident_bytes gauge\nfolio_process_resident_bytes " +
            std::to_string(static_cast<long long>(proc_status_bytes("VmRSS"))) + "\n";
    res.set_content(text, "text/plain; version=0.0.4");
  });
}

}  // namespace folio::serve
