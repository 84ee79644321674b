#include "serve/http_error.h"

#include <httplib.h>

#include <nlohmann/json.hpp>

namespace folio::serve {

int http_status(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return 400;
    case ErrorKind::kNotFound: return 404;
    case ErrorKind::kTooLarge: return 413;
    case ErrorKind::kOverloaded: return 429;
    case ErrorKind::kUnavailable: return 503;
    case ErrorKind::kInternal: return 500;
  }
  return 500;
}

std::string kind_for_status(int status) {
  for (ErrorKind kind : {ErrorKind::kInvalidInput, ErrorKind::kNotFound, ErrorKind::kTooLarge, ErrorKind::kOverloaded,
                         ErrorKind::kUnavailable, ErrorKind::kInternal})
    if (http_status(kind) == status) return error_kind_name(kind);
  if (status == 401) return "unauthorized";
  return status >= 500 ? "internal" : "invalid_input";
}

std::string error_json(const std::string& kind, const std::string& message) {
  return nlohmann::json{{"error", {{"kind", kind}, {"message", message}}}}.dump();
}

void set_error(httplib::Response& res, int status, const std::string& kind, const std::string& message) {
  res.status = status;
  res.set_content(error_json(kind, message), "application/json");
}

void set_error(httplib::Response& res, ErrorKind kind, const std::string& message, int retry_after_s) {
  set_error(res, http_status(kind), error_kind_name(kind), message);
  if (kind == ErrorKind::kOverloaded) res.set_header("Retry-After", std::to_string(retry_after_s));
}

}  // namespace folio::serve
