// `folio serve`: the HTTP API of docs/API.md over one OcrEngine, plus the job runner
// and the web page. The engine is handed in, so tests can serve a fake one.
//
// Lifecycle: start() binds and serves on background threads; shutdown() is graceful (refuse new
// requests, let in-flight ones finish for up to shutdown_grace_s, cancel the rest, stop the job
// runner after its page — unfinished jobs stay in the database and resume on the next start).
// The destructor shuts down if needed. Not copyable; methods are called from one thread.
#pragma once
#include <memory>
#include <string>

#include "engine/ocr_engine.h"
#include "serve/server_options.h"

namespace folio::serve {

class Server {
 public:
  Server(ServerOptions options, std::shared_ptr<OcrEngine> engine);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (port 0 = any free port) and starts serving. Returns the bound port.
  // Throws unavailable when the address cannot be bound.
  int start();
  void shutdown();
  std::string url() const;  // http://host:port

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace folio::serve
