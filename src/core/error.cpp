#include "core/error.h"

namespace folio {

const char* error_kind_name(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::kInvalidInput: return "invalid_input";
    case ErrorKind::kTooLarge: return "too_large";
    case ErrorKind::kNotFound: return "not_found";
    case ErrorKind::kOverloaded: return "overloaded";
    case ErrorKind::kUnavailable: return "unavailable";
    case ErrorKind::kInternal: return "internal";
  }
  return "internal";
}

}  // namespace folio
