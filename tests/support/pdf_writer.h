// A tiny PDF writer for tests: real, valid PDFs (correct xref offsets, %%EOF) built in
// memory, so tests need no fixture files. Header-only.
//
//   std::string pdf = folio::testing::make_text_pdf({{"Hello", "second line"}, {"page 2"}});
//
// Text is set in the standard Helvetica font (/F1, no embedding needed) from 1 inch below
// the top-left corner, one line every 1.2 x font size. For other content, build PdfPage
// values with any content stream (e.g. "1 0 0 rg 72 72 100 50 re f" for a red box) and
// call make_pdf.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace folio::testing {

struct PdfPage {
  double width_pt = 612;   // US Letter
  double height_pt = 792;
  std::string content;     // a PDF content stream; /F1 is Helvetica
};

// A PDF string literal for `text`: ( ) and \ escaped.
inline std::string pdf_string(const std::string& text) {
  std::string out = "(";
  for (char c : text) {
    if (c == '(' || c == ')' || c == '\\') out += '\\';
    out += c;
  }
  return out + ")";
}

inline std::string pdf_number(double v) {
  char buf[32];
  std::snprintf(buf, sizeof(buf), "%.2f", v);
  return buf;
}

// Content stream that writes `lines` top-down starting 72 pt from the top-left corner.
inline std::string text_content(const std::vector<std::string>& lines, double font_size, double page_height_pt) {
  std::string s = "BT\n/F1 " + pdf_number(font_size) + " Tf\n" + pdf_number(font_size * 1.2) + " TL\n72 " +
                  pdf_number(page_height_pt - 72) + " Td\n";
  for (size_t i = 0; i < lines.size(); ++i) s += (i ? "T* " : "") + pdf_string(lines[i]) + " Tj\n";
  return s + "ET\n";
}

inline std::string make_pdf(const std::vector<PdfPage>& pages) {
  std::string out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
  std::vector<size_t> offsets;  // offsets[i] = byte offset of object i + 1
  auto object = [&](const std::string& body) {
    offsets.push_back(out.size());
    out += std::to_string(offsets.size()) + " 0 obj\n" + body + "\nendobj\n";
  };
  // Objects: 1 catalog, 2 page tree, 3 font, then per page: page (4 + 2k), content (5 + 2k).
  std::string kids;
  for (size_t k = 0; k < pages.size(); ++k) kids += std::to_string(4 + 2 * k) + " 0 R ";
  object("<< /Type /Catalog /Pages 2 0 R >>");
  object("<< /Type /Pages /Kids [ " + kids + "] /Count " + std::to_string(pages.size()) + " >>");
  object("<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>");
  for (size_t k = 0; k < pages.size(); ++k) {
    const PdfPage& p = pages[k];
    object("<< /Type /Page /Parent 2 0 R /MediaBox [0 0 " + pdf_number(p.width_pt) + " " +
           pdf_number(p.height_pt) + "] /Resources << /Font << /F1 3 0 R >> >> /Contents " +
           std::to_string(5 + 2 * k) + " 0 R >>");
    object("<< /Length " + std::to_string(p.content.size()) + " >>\nstream\n" + p.content + "\nendstream");
  }
  const size_t xref = out.size();
  out += "xref\n0 " + std::to_string(offsets.size() + 1) + "\n0000000000 65535 f \n";
  for (size_t off : offsets) {
    char entry[32];
    std::snprintf(entry, sizeof(entry), "%010zu 00000 n \n", off);  // exactly 20 bytes
    out += entry;
  }
  out += "trailer\n<< /Size " + std::to_string(offsets.size() + 1) + " /Root 1 0 R >>\nstartxref\n" +
         std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// One page (Letter unless a size in points is given) per entry of `pages_lines`, each with
// its lines of Helvetica text.
inline std::string make_text_pdf(const std::vector<std::vector<std::string>>& pages_lines, double font_size = 14,
                                 double width_pt = 612, double height_pt = 792) {
  std::vector<PdfPage> pages;
  for (const auto& lines : pages_lines) {
    PdfPage p;
    p.width_pt = width_pt;
    p.height_pt = height_pt;
    p.content = text_content(lines, font_size, p.height_pt);
    pages.push_back(p);
  }
  return make_pdf(pages);
}

}  // namespace folio::testing
