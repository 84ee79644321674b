// Test helper: a valid PDF whose pages show known lines of text (Helvetica), so tests can
// render pages and compare OCR output with the text they put in. Letter-size pages, lines from
// the top-left margin, 1.6 x font_size apart. Only printable ASCII is supported.
#pragma once
#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

namespace folio::testing {

inline std::string make_text_pdf(const std::vector<std::vector<std::string>>& pages_lines, double font_size = 14,
                                 double page_width = 612, double page_height = 792) {
  std::vector<std::string> objects;  // object i+1
  int n = static_cast<int>(pages_lines.size());
  // 1: catalog, 2: pages, 3: font, then for each page: page object, content stream.
  objects.push_back("<< /Type /Catalog /Pages 2 0 R >>");
  std::string kids;
  for (int i = 0; i < n; ++i) kids += std::to_string(4 + 2 * i) + " 0 R ";
  objects.push_back("<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(n) + " >>");
  objects.push_back("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>");
  char num[64];
  for (int i = 0; i < n; ++i) {
    std::snprintf(num, sizeof num, "%.2f %.2f", page_width, page_height);
    objects.push_back("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + std::string(num) +
                      "] /Resources << /Font << /F1 3 0 R >> >> /Contents " + std::to_string(5 + 2 * i) + " 0 R >>");
    std::string content = "BT\n";
    std::snprintf(num, sizeof num, "/F1 %.2f Tf\n%.2f TL\n", font_size, font_size * 1.6);
    content += num;
    double margin = std::min(54.0, page_width / 10);
    std::snprintf(num, sizeof num, "%.2f %.2f Td\n", margin, page_height - margin - font_size);
    content += num;
    for (const std::string& line : pages_lines[i]) {
      std::string escaped;
      for (char c : line) {
        if (c == '(' || c == ')' || c == '\\') escaped += '\\';
        escaped += c;
      }
      content += "(" + escaped + ") Tj T*\n";
    }
    content += "ET\n";
    objects.push_back("<< /Length " + std::to_string(content.size()) + " >>\nstream\n" + content + "endstream");
  }
  std::string pdf = "%PDF-1.4\n";
  std::vector<size_t> offsets;
  for (size_t i = 0; i < objects.size(); ++i) {
    offsets.push_back(pdf.size());
    pdf += std::to_string(i + 1) + " 0 obj\n" + objects[i] + "\nendobj\n";
  }
  size_t xref = pdf.size();
  pdf += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    std::snprintf(num, sizeof num, "%010zu 00000 n \n", off);
    pdf += num;
  }
  pdf += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return pdf;
}

}  // namespace folio::testing
