// The one place that maps error kinds to HTTP statuses, and the JSON shape of every error
// response: {"error":{"kind":"...","message":"..."}}.
#pragma once
#include <string>

#include "core/error.h"

namespace httplib {
struct Response;
}

namespace folio::serve {

int http_status(ErrorKind kind);
// The kind name for an error status (for metrics and for bodies httplib produced itself, such
// as 413 on an over-limit body or 404 on an unknown route). 401 -> "unauthorized".
std::string kind_for_status(int status);

// Fills `res` with the status and JSON body; overloaded errors carry Retry-After.
void set_error(httplib::Response& res, ErrorKind kind, const std::string& message, int retry_after_s = 2);
void set_error(httplib::Response& res, int status, const std::string& kind, const std::string& message);

std::string error_json(const std::string& kind, const std::string& message);

}  // namespace folio::serve
