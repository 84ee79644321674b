// Everything `folio serve` can be told (see cli/cmd_serve.cpp for the flags).
#pragma once
#include <cstddef>
#include <string>
#include <vector>

namespace folio::serve {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                      // 0 = any free port (tests)
  int max_queue = 64;                   // requests waiting beyond the running ones; then 429
  int workers = 0;                      // requests processed at once; 0 = number of cores
  std::vector<std::string> api_keys;    // empty = no auth
  size_t max_upload_bytes = 100u << 20;
  int request_timeout_s = 300;          // queue wait + processing of one /v1/ocr or chat request
  std::string cors_origin;              // empty = no CORS headers
  std::string jobs_db = "folio-jobs.sqlite";
  size_t cache_entries = 256;
  std::string web_dir;                  // folder with index.html; else a built-in notice page
  bool allow_remote_images = false;
  int shutdown_grace_s = 30;            // how long in-flight requests may finish on SIGTERM
};

}  // namespace folio::serve
