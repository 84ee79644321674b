#include "serve/form.h"

#include <httplib.h>

#include "core/error.h"

namespace folio::serve {
namespace {

int integer_field(const httplib::Request& req, const std::string& name, int fallback) {
  if (!req.has_file(name)) return fallback;
  std::string value = req.get_file_value(name).content;
  if (value.empty()) return fallback;
  if (value.size() > 9 || value.find_first_not_of("0123456789") != std::string::npos)
    throw invalid_input("field \"" + name + "\": \"" + value.substr(0, 20) + "\" is not a whole number");
  return std::stoi(value);
}

std::string text_field(const httplib::Request& req, const std::string& name, const std::string& fallback) {
  if (!req.has_file(name)) return fallback;
  std::string value = req.get_file_value(name).content;
  return value.empty() ? fallback : value;
}

}  // namespace

OcrForm read_ocr_form(const httplib::Request& req) {
  if (!req.is_multipart_form_data())
    throw invalid_input("expected multipart/form-data with a \"file\" field (curl -F file=@scan.pdf ...)");
  if (!req.has_file("file")) throw invalid_input("the form has no \"file\" field");
  OcrForm form;
  // By reference: get_file_value() returns a copy, and the file part can be the upload limit big.
  const httplib::MultipartFormData& part = req.files.find("file")->second;
  form.filename = part.filename.empty() ? "upload" : part.filename;
  form.bytes = part.content;
  if (form.bytes.empty()) throw invalid_input(form.filename + ": the file is empty");
  form.options.mode = text_field(req, "mode", form.options.mode);
  form.options.task = text_field(req, "task", form.options.task);
  form.options.prompt = text_field(req, "prompt", "");
  form.options.pages = text_field(req, "pages", "");
  form.options.dpi = integer_field(req, "dpi", form.options.dpi);
  form.options.max_tokens = integer_field(req, "max_tokens", form.options.max_tokens);
  form.options.validate();
  return form;
}

}  // namespace folio::serve
