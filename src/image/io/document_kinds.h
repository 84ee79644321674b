// Internal: the concrete Document kinds behind Document::open (not for other layers).
#pragma once
#include <memory>
#include <string>

#include "image/io/document.h"

namespace folio {

std::unique_ptr<Document> open_pdf_document(std::shared_ptr<const std::string> bytes, const std::string& name,
                                            const DocumentOptions& options);
// The same, owning the bytes (see PdfDocument in pdf_document.cpp).
std::unique_ptr<Document> open_pdf_document(std::string bytes, const std::string& name, const DocumentOptions& options);
std::unique_ptr<Document> open_tiff_document(std::shared_ptr<const std::string> bytes, const std::string& name,
                                             const DocumentOptions& options);

}  // namespace folio
