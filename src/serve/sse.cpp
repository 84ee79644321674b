#include "serve/sse.h"

#include <httplib.h>

namespace folio::serve {

bool SseWriter::write(const std::string& text) {
  std::lock_guard lock(mutex_);
  if (broken_) return false;
  if (!sink_.is_writable() || !sink_.write(text.data(), text.size())) {
    broken_ = true;
    if (on_disconnect_) on_disconnect_();
    return false;
  }
  return true;
}

bool SseWriter::event(const std::string& name, const std::string& data) {
  return write("event: " + name + "\ndata: " + data + "\n\n");
}

bool SseWriter::data(const std::string& data) { return write("data: " + data + "\n\n"); }

void SseWriter::done() {
  std::lock_guard lock(mutex_);
  if (!broken_) sink_.done();
}

}  // namespace folio::serve
