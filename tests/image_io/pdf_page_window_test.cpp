// Long PDFs are opened one window of pages at a time (pdf_page_window.h): every page renders
// exactly as poppler renders it from the whole file, whatever the cross-reference form (table,
// compressed stream, object streams) and wherever the page inherits its attributes from; files
// the reader does not accept fall back to the whole file; and the memory poppler keeps no longer
// grows with the page's position in the document.
#include "image/io/pdf_page_window.h"

#include <malloc.h>
#include <zlib.h>

#include <poppler/cpp/poppler-document.h>
#include <poppler/cpp/poppler-image.h>
#include <poppler/cpp/poppler-page-renderer.h>
#include <poppler/cpp/poppler-page.h>

#include <algorithm>
#include <cstdio>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "image/io/document.h"
#include "support/pdf_writer.h"

namespace folio {
namespace {

// How the test file stores its objects and cross-reference.
enum class Layout { kTable, kStream, kCompressedStream };

// A PDF from numbered object bodies (bodies[i] is object i + 1). kStream writes an uncompressed
// cross-reference stream; kCompressedStream Flate-compresses it with the PNG Up predictor and puts
// every non-stream object (page-tree nodes and pages included) into one compressed object stream.
std::string build_pdf(const std::vector<std::string>& bodies, int root, Layout layout, const std::string& trailer_extra = "") {
  std::string out = "%PDF-1.5\n%\xe2\xe3\xcf\xd3\n";
  const int n = static_cast<int>(bodies.size());
  std::vector<size_t> offset(n + 2, 0);
  std::vector<int> in_stream(n + 2, -1);  // index inside the object stream
  auto is_stream = [](const std::string& b) { return b.find("stream\n") != std::string::npos; };
  auto flate = [](const std::string& data) {
    uLongf size = compressBound(data.size());
    std::string z(size, '\0');
    compress(reinterpret_cast<Bytef*>(z.data()), &size, reinterpret_cast<const Bytef*>(data.data()), data.size());
    z.resize(size);
    return z;
  };
  std::string packed_header, packed_body;
  int packed = 0;
  for (int i = 1; i <= n; ++i) {
    const std::string& body = bodies[i - 1];
    if (layout == Layout::kCompressedStream && !is_stream(body)) {
      packed_header += std::to_string(i) + " " + std::to_string(packed_body.size()) + " ";
      packed_body += body + "\n";
      in_stream[i] = packed++;
      continue;
    }
    offset[i] = out.size();
    out += std::to_string(i) + " 0 obj\n" + body + "\nendobj\n";
  }
  int objstm = 0;
  if (packed) {
    objstm = n + 1;
    const std::string data = flate(packed_header + "\n" + packed_body);
    offset[objstm] = out.size();
    out += std::to_string(objstm) + " 0 obj\n<< /Type /ObjStm /N " + std::to_string(packed) + " /First " +
           std::to_string(packed_header.size() + 1) + " /Filter /FlateDecode /Length " + std::to_string(data.size()) +
           " >>\nstream\n" + data + "\nendstream\nendobj\n";
  }
  const int size = (objstm ? objstm : n) + 2;  // the cross-reference stream takes the last number
  const size_t xref = out.size();
  if (layout == Layout::kTable) {
    out += "xref\n0 " + std::to_string(n + 1) + "\n0000000000 65535 f \n";
    for (int i = 1; i <= n; ++i) {
      char entry[32];
      std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset[i]);
      out += entry;
    }
    out += "trailer\n<< /Size " + std::to_string(n + 1) + " /Root " + std::to_string(root) + " 0 R" + trailer_extra +
           " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
  }
  // Entries of 1 + 4 + 2 bytes: type, offset or object stream number, generation or index.
  std::string rows;
  auto row = [&](int type, uint32_t f1, uint16_t f2) {
    rows += static_cast<char>(type);
    for (int s = 24; s >= 0; s -= 8) rows += static_cast<char>((f1 >> s) & 0xff);
    rows += static_cast<char>(f2 >> 8);
    rows += static_cast<char>(f2 & 0xff);
  };
  row(0, 0, 65535);
  for (int i = 1; i < size; ++i) {
    if (i == size - 1) row(1, static_cast<uint32_t>(xref), 0);
    else if (in_stream[i] >= 0) row(2, objstm, static_cast<uint16_t>(in_stream[i]));
    else row(1, static_cast<uint32_t>(offset[i]), 0);
  }
  std::string data = rows, filter;
  if (layout == Layout::kCompressedStream) {
    std::string predicted, prev(7, '\0');
    for (size_t at = 0; at < rows.size(); at += 7) {
      predicted += '\x02';  // PNG Up
      for (int k = 0; k < 7; ++k) predicted += static_cast<char>(rows[at + k] - prev[k]);
      prev = rows.substr(at, 7);
    }
    data = flate(predicted);
    filter = " /Filter /FlateDecode /DecodeParms << /Predictor 12 /Columns 7 >>";
  }
  out += std::to_string(size - 1) + " 0 obj\n<< /Type /XRef /Size " + std::to_string(size) + " /W [1 4 2] /Root " +
         std::to_string(root) + " 0 R" + trailer_extra + filter + " /Length " + std::to_string(data.size()) +
         " >>\nstream\n" + data + "\nendstream\nendobj\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
  return out;
}

// `pages` pages under a two-level tree whose nodes set what the pages inherit: the root gives a
// MediaBox and Resources, the first half's node Rotate 90, the second half's node another
// MediaBox, a CropBox and Resources by reference; some pages override their box. Each page
// shows its number and a square whose place depends on it, so a page mix-up shows in pixels.
std::string tree_pdf(int pages, Layout layout, const std::string& trailer_extra = "") {
  // 1 catalog, 2 root node, 3 and 4 the two halves, 5 font, 6 resources, then page + content pairs.
  std::vector<std::string> b(6);
  std::string kids[2];
  const int half = pages / 2;
  for (int i = 0; i < pages; ++i) {
    const int page = 7 + 2 * i, content = page + 1;
    kids[i < half ? 0 : 1] += std::to_string(page) + " 0 R ";
    std::string own = i % 7 == 3 ? " /MediaBox [0 0 150 150]" : "";
    b.push_back("<< /Type /Page /Parent " + std::string(i < half ? "3" : "4") + " 0 R" + own + " /Contents " +
                std::to_string(content) + " 0 R >>");
    const std::string text = "BT /F1 12 Tf 10 20 Td " + testing::pdf_string("P" + std::to_string(i + 1)) + " Tj ET " +
                             std::to_string(5 + (i % 20) * 5) + " " + std::to_string(40 + (i / 20 % 5) * 8) +
                             " 6 6 re f";
    b.push_back("<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text + "\nendstream");
  }
  b[0] = "<< /Type /Catalog /Pages 2 0 R >>";
  b[1] = "<< /Type /Pages /Kids [3 0 R 4 0 R] /Count " + std::to_string(pages) +
         " /MediaBox [0 0 200 100] /Resources << /Font << /F1 5 0 R >> >> >>";
  b[2] = "<< /Type /Pages /Parent 2 0 R /Kids [" + kids[0] + "] /Count " + std::to_string(half) + " /Rotate 90 >>";
  b[3] = "<< /Type /Pages /Parent 2 0 R /Kids [" + kids[1] + "] /Count " + std::to_string(pages - half) +
         " /MediaBox [0 0 120 180] /CropBox [10 10 110 170] /Resources 6 0 R >>";
  b[4] = "<< /Type /Font /Subtype /Type1 /BaseFont /Courier /Encoding /WinAnsiEncoding >>";
  b[5] = "<< /Font << /F1 5 0 R >> >>";
  return build_pdf(b, 1, layout, trailer_extra);
}

// Page `index` as poppler renders it from the whole file, with the renderer settings of
// PdfDocument, as RGB rows without padding.
std::vector<uint8_t> poppler_page(const std::string& pdf, int index, double dpi) {
  std::unique_ptr<poppler::document> doc(poppler::document::load_from_raw_data(pdf.data(), static_cast<int>(pdf.size())));
  std::unique_ptr<poppler::page> page(doc->create_page(index));
  poppler::page_renderer r;
  r.set_render_hint(poppler::page_renderer::antialiasing, true);
  r.set_render_hint(poppler::page_renderer::text_antialiasing, true);
  r.set_image_format(poppler::image::format_rgb24);
  const poppler::image img = r.render_page(page.get(), dpi, dpi);
  std::vector<uint8_t> out;
  for (int y = 0; y < img.height(); ++y) {
    const auto* row = reinterpret_cast<const uint8_t*>(img.const_data() + static_cast<size_t>(y) * img.bytes_per_row());
    out.insert(out.end(), row, row + static_cast<size_t>(img.width()) * 3);
  }
  return out;
}

void expect_same_pages_as_poppler(const std::string& pdf, int pages) {
  DocumentOptions options;
  options.dpi = 72;
  auto doc = Document::open(pdf, "tree.pdf", options);
  ASSERT_EQ(doc->page_count(), pages);
  // In order, then backwards and jumping (new windows before and after the current one).
  std::vector<int> order;
  for (int i = 0; i < pages; ++i) order.push_back(i);
  for (int i = pages - 1; i >= 0; i -= 37) order.push_back(i);
  for (int index : order) {
    Image image = doc->render_page(index);
    std::vector<uint8_t> pixels(image.rgb.begin(), image.rgb.end());
    ASSERT_EQ(pixels, poppler_page(pdf, index, 72)) << "page " << index + 1 << " differs";
  }
}

TEST(PdfPageWindow, ReadsEveryCrossReferenceForm) {
  for (Layout layout : {Layout::kTable, Layout::kStream, Layout::kCompressedStream}) {
    const std::string pdf = tree_pdf(150, layout);
    auto windows = pdf::PageWindows::read(pdf);
    ASSERT_TRUE(windows) << "layout " << static_cast<int>(layout);
    EXPECT_EQ(windows->page_count(), 150);
  }
  // The simple writer of the other tests: one flat node.
  std::vector<std::vector<std::string>> content(300, {"x"});
  auto flat = pdf::PageWindows::read(testing::make_text_pdf(content));
  ASSERT_TRUE(flat);
  EXPECT_EQ(flat->page_count(), 300);
}

TEST(PdfPageWindow, PagesRenderAsFromTheWholeFile) {
  expect_same_pages_as_poppler(tree_pdf(150, Layout::kTable), 150);
}

TEST(PdfPageWindow, PagesRenderAsFromTheWholeFileWithObjectStreams) {
  expect_same_pages_as_poppler(tree_pdf(150, Layout::kCompressedStream), 150);
  expect_same_pages_as_poppler(tree_pdf(90, Layout::kStream), 90);
}

// Damage outside the page tree (here the object header of page 71's content) is found only while
// that page renders, when poppler may repair the file (rebuild its cross-reference by scanning:
// it does when the newest section is a table, not when it is a stream, which is why the update
// uses the form of the newest section). The windows still render every page as the whole file.
// (Randomly damaged real files, pdfTeX's with object streams among them, are what showed the
// difference: 2 pages in 4,000 damaged files rendered differently with a table update.)
TEST(PdfPageWindow, DamagedFilesRenderAsFromTheWholeFile) {
  for (Layout layout : {Layout::kTable, Layout::kCompressedStream}) {
    std::string pdf = tree_pdf(90, layout);
    const size_t at = pdf.find("\n" + std::to_string(7 + 2 * 70 + 1) + " 0 obj");
    ASSERT_NE(at, std::string::npos);
    pdf[at + 5] = ';';  // "148 ; obj"
    ASSERT_TRUE(pdf::PageWindows::read(pdf)) << "the page tree itself is intact";
    expect_same_pages_as_poppler(pdf, 90);
  }
}

TEST(PdfPageWindow, UpdateLeavesOnlyTheWindowPages) {
  const std::string pdf = tree_pdf(150, Layout::kCompressedStream);
  auto windows = pdf::PageWindows::read(pdf);
  ASSERT_TRUE(windows);
  std::string windowed = pdf + windows->update(70, 10, pdf.size());
  std::unique_ptr<poppler::document> doc(
      poppler::document::load_from_raw_data(windowed.data(), static_cast<int>(windowed.size())));
  ASSERT_TRUE(doc);
  EXPECT_EQ(doc->pages(), 10);
  std::unique_ptr<poppler::page> page(doc->create_page(3));
  auto text = page->text().to_utf8();
  EXPECT_NE(std::string(text.begin(), text.end()).find("P74"), std::string::npos);
}

TEST(PdfPageWindow, RefusesWhatItCannotWindowAndTheDocumentStillRenders) {
  // Encrypted (the update would have to be encrypted too): refused. poppler itself would fail
  // on this fake /Encrypt, so only the reader is checked.
  EXPECT_FALSE(pdf::PageWindows::read(tree_pdf(100, Layout::kTable, " /Encrypt << /Filter /Standard >>")));
  // A /Count that does not match the leaves.
  std::string wrong_count = tree_pdf(100, Layout::kTable);
  const size_t at = wrong_count.find("/Count 100");
  ASSERT_NE(at, std::string::npos);
  wrong_count.replace(at, 10, "/Count 101");
  EXPECT_FALSE(pdf::PageWindows::read(wrong_count));
  // A cross-reference that points at the wrong object (shifted by junk in the body).
  std::string shifted = tree_pdf(100, Layout::kTable);
  shifted.insert(shifted.find("3 0 obj"), "% junk\n");
  EXPECT_FALSE(pdf::PageWindows::read(shifted));
  // Not a PDF at all, or cut short.
  EXPECT_FALSE(pdf::PageWindows::read("hello"));
  const std::string good = tree_pdf(100, Layout::kCompressedStream);
  for (size_t cut : {good.size() / 2, good.size() - 40}) EXPECT_FALSE(pdf::PageWindows::read(good.substr(0, cut)));

  // The document falls back to poppler on the whole file and renders the same pages.
  DocumentOptions options;
  options.dpi = 72;
  auto doc = Document::open(shifted, "shifted.pdf", options);
  for (int index : {0, 80, 99}) {
    Image image = doc->render_page(index);
    EXPECT_EQ(std::vector<uint8_t>(image.rgb.begin(), image.rgb.end()), poppler_page(shifted, index, 72));
  }
}

// The reader reads untrusted files: damaged ones end in nullopt or in a page tree, never in a
// crash, a hang or an exception.
TEST(PdfPageWindow, DamagedFilesNeverCrashTheReader) {
  const std::vector<std::string> seeds = {tree_pdf(70, Layout::kTable), tree_pdf(70, Layout::kStream),
                                          tree_pdf(70, Layout::kCompressedStream)};
  std::mt19937 rng(2024);
  int accepted = 0;
  for (int i = 0; i < 3000; ++i) {
    std::string b = seeds[i % seeds.size()];
    for (int e = 1 + rng() % 4; e > 0; --e) {
      const size_t at = rng() % b.size();
      switch (rng() % 4) {
        case 0: b[at] = static_cast<char>(rng()); break;
        case 1: b.erase(at, 1 + rng() % 8); break;
        case 2: b.insert(at, std::string(1 + rng() % 4, " 0123456789/[]<>()R"[rng() % 19])); break;
        default: b.resize(at); break;
      }
    }
    auto windows = pdf::PageWindows::read(b);
    if (!windows) continue;
    ++accepted;
    ASSERT_GT(windows->page_count(), 0);
    const int first = static_cast<int>(rng() % windows->page_count());
    EXPECT_FALSE(windows->update(first, std::min(5, windows->page_count() - first), b.size()).empty());
  }
  std::printf("[ mutate   ] %d of 3000 damaged files still windowable\n", accepted);
}

// poppler keeps every page object it parsed in front of the page asked for until the document is
// closed (~1.5 KB a page here): without windows, reaching page 3,000 holds ~4.5 MB more than page
// 100 does.
TEST(PdfPageWindow, MemoryDoesNotGrowWithThePagePosition) {
  std::vector<std::vector<std::string>> content;
  for (int i = 0; i < 3000; ++i) content.push_back({"P" + std::to_string(i + 1)});
  DocumentOptions options;
  options.dpi = 72;
  auto doc = Document::open(testing::make_text_pdf(content, 12, 96, 48), "long.pdf", options);
  doc->render_page(100);
  const size_t at_100 = mallinfo2().uordblks;
  doc->render_page(2999);
  const long long grown = static_cast<long long>(mallinfo2().uordblks) - static_cast<long long>(at_100);
  EXPECT_LT(grown, 256 * 1024) << "heap in use grew by " << grown << " bytes between pages 101 and 3000";
}

}  // namespace
}  // namespace folio
