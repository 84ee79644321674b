// Reading the multipart form of /v1/ocr and /v1/jobs: the `file` part and the options fields.
#pragma once
#include <string>

#include "serve/ocr_pipeline.h"

namespace httplib {
struct Request;
}

namespace folio::serve {

struct OcrForm {
  std::string filename;  // as uploaded ("upload" when the client gave none)
  std::string bytes;
  OcrOptions options;
};

// Throws invalid_input when the request is not multipart, lacks `file`, or a field is malformed.
OcrForm read_ocr_form(const httplib::Request& req);

}  // namespace folio::serve
