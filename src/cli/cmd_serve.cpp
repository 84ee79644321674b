// `folio serve`: builds the engine (Tesseract without --model, DeepSeek-OCR with it), starts the
// HTTP server and waits for SIGINT/SIGTERM, then shuts down gracefully.
#include <CLI/CLI.hpp>

#include <malloc.h>

#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <sstream>

#include "cli/command.h"
#include "engine/engine_factory.h"
#include "serve/server.h"

#ifndef FOLIO_DEFAULT_WEB_DIR
#define FOLIO_DEFAULT_WEB_DIR "web/dist"
#endif

namespace folio {
namespace {

struct ServeArgs {
  serve::ServerOptions server;
  EngineOptions engine;
  size_t max_upload_mb = 100;
};

int run_serve(ServeArgs args) {
  args.server.max_upload_bytes = args.max_upload_mb << 20;
  if (const char* env = std::getenv("FOLIO_API_KEYS"); env && *env) {
    std::stringstream keys(env);
    for (std::string key; std::getline(keys, key, ',');)
      if (!key.empty()) args.server.api_keys.push_back(key);
  }
  // Block the shutdown signals in every thread (created after this point) and take them with
  // sigwait here, so shutdown runs as ordinary code rather than inside a signal handler.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  // The server keeps ~100 mostly idle HTTP threads; glibc would give many of them a malloc arena
  // of their own, so resident memory would creep up with each thread that ever served a request.
  mallopt(M_ARENA_MAX, 4);
  // Buffers of 1 MiB or more (uploads, documents, rendered pages) get a mapping of their own that
  // goes back to the system when freed. glibc otherwise raises this threshold to the size of each
  // large block freed, up to 32 MiB, and then carves such buffers out of the heap, where they left
  // holes: a 5,000-page job's peak was ~1.5 MiB higher (measured), in proportion to the upload.
  // Setting the value fixes it (no more raising); the page loop was no slower.
  mallopt(M_MMAP_THRESHOLD, 1 << 20);
  std::shared_ptr<OcrEngine> engine = make_engine(args.engine);
  EngineInfo info = engine->info();
  serve::Server server(args.server, engine);
  server.start();
  std::printf("folio serve: %s engine (%s) on %s\nfolio serve: listening on %s  (open it in a browser)\n",
              info.engine.c_str(), info.model.c_str(), info.device.c_str(), server.url().c_str());
  std::fflush(stdout);
  int signal_number = 0;
  sigwait(&signals, &signal_number);
  std::printf("folio serve: %s received, finishing requests in flight (up to %d s)\n",
              signal_number == SIGINT ? "SIGINT" : "SIGTERM", args.server.shutdown_grace_s);
  std::fflush(stdout);
  server.shutdown();
  std::printf("folio serve: stopped\n");
  return 0;
}

}  // namespace

void add_serve_command(CLI::App& app, CommandAction& action) {
  auto args = std::make_shared<ServeArgs>();
  args->server.web_dir = FOLIO_DEFAULT_WEB_DIR;
  auto* cmd = app.add_subcommand("serve", "Serve the HTTP API and the web page");
  serve::ServerOptions& s = args->server;
  cmd->add_option("--host", s.host, "Address to listen on")->capture_default_str();
  cmd->add_option("--port", s.port, "Port (0 = any free port)")->capture_default_str();
  cmd->add_option("--model", args->engine.model_dir, "DeepSeek-OCR model folder (without it: Tesseract)");
  cmd->add_option("--engine", args->engine.engine, "auto | tesseract | deepseek-ocr")
      ->check(CLI::IsMember({"auto", "tesseract", "deepseek-ocr"}))->capture_default_str();
  cmd->add_option("--device", args->engine.device, "cpu | cuda")->check(CLI::IsMember({"cpu", "cuda"}))->capture_default_str();
  cmd->add_option("--languages", args->engine.languages, "Tesseract languages")->capture_default_str();
  cmd->add_option("--max-queue", s.max_queue, "Requests that may wait for a worker before 429")->capture_default_str();
  cmd->add_option("--workers", s.workers, "Requests processed at once (0 = number of cores)")->capture_default_str();
  cmd->add_option("--api-key", s.api_keys, "Required Bearer key (repeatable; also FOLIO_API_KEYS=k1,k2)");
  cmd->add_option("--max-upload-mb", args->max_upload_mb, "Largest request body in MB")->capture_default_str();
  cmd->add_option("--request-timeout-s", s.request_timeout_s, "Queue wait + processing limit per request")->capture_default_str();
  cmd->add_option("--cors-origin", s.cors_origin, "Allowed browser origin for CORS (off when unset)");
  cmd->add_option("--jobs-db", s.jobs_db, "SQLite file for /v1/jobs (empty disables jobs)")->capture_default_str();
  cmd->add_option("--cache-entries", s.cache_entries, "Results kept in the in-memory cache")->capture_default_str();
  cmd->add_option("--web-dir", s.web_dir, "Folder of the built web page")->capture_default_str();
  cmd->add_option("--shutdown-grace-s", s.shutdown_grace_s, "Time in-flight requests get on SIGTERM")->capture_default_str();
  cmd->add_flag("--allow-remote-images", s.allow_remote_images, "Allow http(s) image URLs in chat completions");
  cmd->callback([&action, args] { action = [args] { return run_serve(*args); }; });
}

}  // namespace folio
