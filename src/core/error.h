// One error type for the whole project. Every failure a user can cause carries a kind
// (mapped to an HTTP status in exactly one place, serve/http_status) and a message with
// enough context to act on ("page 3 of scan.pdf: JPEG data is truncated").
#pragma once
#include <stdexcept>
#include <string>

namespace folio {

enum class ErrorKind {
  kInvalidInput,  // the request or file is malformed
  kTooLarge,      // input exceeds a configured bound (pixels, bytes, pages, tokens)
  kNotFound,      // a named file, tensor, field, job does not exist
  kOverloaded,    // queue full; retry later
  kUnavailable,   // engine or device not ready / shutting down
  kInternal,      // a bug or an environment failure (I/O, driver)
};

const char* error_kind_name(ErrorKind kind);

class Error : public std::runtime_error {
 public:
  Error(ErrorKind kind, const std::string& message) : std::runtime_error(message), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

// Short constructors so call sites read like sentences: throw invalid_input("...").
inline Error invalid_input(const std::string& m) { return Error(ErrorKind::kInvalidInput, m); }
inline Error too_large(const std::string& m) { return Error(ErrorKind::kTooLarge, m); }
inline Error not_found(const std::string& m) { return Error(ErrorKind::kNotFound, m); }
inline Error overloaded(const std::string& m) { return Error(ErrorKind::kOverloaded, m); }
inline Error unavailable(const std::string& m) { return Error(ErrorKind::kUnavailable, m); }
inline Error internal_error(const std::string& m) { return Error(ErrorKind::kInternal, m); }

}  // namespace folio
