// Server-sent events over an httplib chunked response. Writes are serialised (a model engine may
// report tokens from its own thread); after the client goes away every write returns false and
// `on_disconnect` has been called once (the caller cancels its work there).
#pragma once
#include <functional>
#include <mutex>
#include <string>

namespace httplib {
class DataSink;
}

namespace folio::serve {

class SseWriter {
 public:
  SseWriter(httplib::DataSink& sink, std::function<void()> on_disconnect)
      : sink_(sink), on_disconnect_(std::move(on_disconnect)) {}
  bool event(const std::string& name, const std::string& data);  // "event: name\ndata: data\n\n"
  bool data(const std::string& data);                            // "data: data\n\n" (OpenAI style)
  void done();

 private:
  bool write(const std::string& text);
  httplib::DataSink& sink_;
  std::function<void()> on_disconnect_;
  std::mutex mutex_;
  bool broken_ = false;
};

}  // namespace folio::serve
