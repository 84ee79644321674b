#include "image/io/document.h"

#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <iostream>

#include <gtest/gtest.h>

#include "core/error.h"
#include "image_io_helpers.h"
#include "support/pdf_writer.h"

namespace folio {
namespace {

using testing::make_text_pdf;

int dark_pixels(const Image& im, int x0, int y0, int x1, int y1) {
  int n = 0;
  for (int y = y0; y < y1; ++y)
    for (int x = x0; x < x1; ++x)
      if (im.row(y)[x * 3] < 128) ++n;
  return n;
}

template <typename Fn>
std::string error_of(Fn fn, ErrorKind kind) {
  try {
    fn();
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), kind) << e.what();
    return e.what();
  }
  ADD_FAILURE() << "expected an error";
  return "";
}

TEST(PdfDocument, CountsAndRendersLetterPagesAt144Dpi) {
  auto doc = Document::open(make_text_pdf({{"Hello folio", "Second line"}, {"Page two"}, {}}), "scan.pdf");
  EXPECT_EQ(doc->format(), "pdf");
  ASSERT_EQ(doc->page_count(), 3);
  const Image page = doc->render_page(0);
  EXPECT_EQ(page.width, 1224);
  EXPECT_EQ(page.height, 1584);
  // Text starts 1 inch (144 px) from the left, its first baseline 1 inch from the top:
  // the glyphs of line 1 sit in rows ~124..148, line 2 ~34 px lower.
  EXPECT_GT(dark_pixels(page, 140, 118, 400, 150), 200);
  EXPECT_GT(dark_pixels(page, 140, 152, 400, 184), 200);
  EXPECT_EQ(dark_pixels(page, 0, 0, 1224, 110), 0);        // top margin
  EXPECT_EQ(dark_pixels(page, 0, 200, 1224, 1584), 0);     // below the two lines
  EXPECT_EQ(dark_pixels(page, 0, 0, 130, 1584), 0);        // left margin
  const Image empty = doc->render_page(2);
  EXPECT_EQ(dark_pixels(empty, 0, 0, empty.width, empty.height), 0);
}

TEST(PdfDocument, DpiScalesTheRenderAndColoursAreRgb) {
  testing::PdfPage p;
  p.width_pt = 200;
  p.height_pt = 100;
  p.content = "1 0 0 rg 0 0 100 100 re f 0 0 1 rg 100 0 100 100 re f";  // red left, blue right
  DocumentOptions opt;
  opt.dpi = 72;
  auto doc = Document::open(testing::make_pdf({p}), "c.pdf", opt);
  const Image im = doc->render_page(0);
  ASSERT_EQ(im.width, 200);
  ASSERT_EQ(im.height, 100);
  EXPECT_EQ(testing::rgb_at(im, 50, 50), (std::array<int, 3>{255, 0, 0}));
  EXPECT_EQ(testing::rgb_at(im, 150, 50), (std::array<int, 3>{0, 0, 255}));
}

TEST(PdfDocument, PageOverThePixelLimitIsRefusedForThatPage) {
  DocumentOptions opt;
  opt.limits.max_pixels = 1'000'000;  // a Letter page at 144 dpi is 1.9 megapixels
  auto doc = Document::open(make_text_pdf({{"a"}, {"b"}}), "scan.pdf", opt);
  const std::string msg = error_of([&] { doc->render_page(1); }, ErrorKind::kTooLarge);
  EXPECT_NE(msg.find("page 2 of scan.pdf: 1224 x 1584 pixels exceeds"), std::string::npos) << msg;
}

TEST(PdfDocument, TruncatedOrCorruptPdfIsInvalidInput) {
  const std::string pdf = make_text_pdf({{"one"}, {"two"}});
  for (size_t cut : {pdf.size() / 2, pdf.size() - 10, size_t(20)}) {
    const std::string msg = error_of([&] { Document::open(pdf.substr(0, cut), "cut.pdf"); }, ErrorKind::kInvalidInput);
    EXPECT_NE(msg.find("cut.pdf"), std::string::npos) << msg;
  }
  std::string garbage = "%PDF-1.4\n" + std::string(3000, 'x') + "\n%%EOF\n";
  error_of([&] { Document::open(garbage, "bad.pdf"); }, ErrorKind::kInvalidInput);
}

TEST(PdfDocument, PageLimitAndIndexErrors) {
  DocumentOptions opt;
  opt.max_pages = 2;
  const std::string pdf = make_text_pdf({{"1"}, {"2"}, {"3"}});
  EXPECT_NE(error_of([&] { Document::open(pdf, "big.pdf", opt); }, ErrorKind::kTooLarge).find("3 pages"),
            std::string::npos);
  auto doc = Document::open(pdf, "ok.pdf");
  error_of([&] { doc->render_page(3); }, ErrorKind::kInvalidInput);
  error_of([&] { doc->render_page(-1); }, ErrorKind::kInvalidInput);
}

std::string multipage_tiff(const std::vector<cv::Mat>& pages) {
  const std::string path = std::filesystem::temp_directory_path() / ("folio_test_" + std::to_string(getpid()) + ".tiff");
  if (!cv::imwritemulti(path, pages)) throw std::runtime_error("imwritemulti failed");
  std::string bytes = testing::read_file(path);
  std::remove(path.c_str());
  return bytes;
}

TEST(TiffDocument, RendersEachPageOnItsOwn) {
  std::vector<cv::Mat> pages = {cv::Mat(30, 40, CV_8UC3, cv::Scalar(0, 0, 200)),   // red (BGR)
                                cv::Mat(50, 20, CV_8UC3, cv::Scalar(0, 200, 0)),   // green
                                cv::Mat(10, 10, CV_8UC1, cv::Scalar(90))};         // gray
  auto doc = Document::open(multipage_tiff(pages), "fax.tiff");
  EXPECT_EQ(doc->format(), "tiff");
  ASSERT_EQ(doc->page_count(), 3);
  const Image p2 = doc->render_page(1);
  EXPECT_EQ(p2.width, 20);
  EXPECT_EQ(p2.height, 50);
  EXPECT_EQ(testing::rgb_at(p2, 5, 5), (std::array<int, 3>{0, 200, 0}));
  const Image p1 = doc->render_page(0);  // going back works
  EXPECT_EQ(testing::rgb_at(p1, 39, 29), (std::array<int, 3>{200, 0, 0}));
  EXPECT_EQ(testing::rgb_at(doc->render_page(2), 0, 0), (std::array<int, 3>{90, 90, 90}));

  DocumentOptions opt;
  opt.limits.max_side = 45;
  auto limited = Document::open(multipage_tiff(pages), "fax.tiff", opt);
  EXPECT_EQ(limited->render_page(0).width, 40);
  const std::string msg = error_of([&] { limited->render_page(1); }, ErrorKind::kTooLarge);
  EXPECT_NE(msg.find("page 2 of fax.tiff: 20 x 50 pixels exceeds the limit of 45 pixels per side"), std::string::npos) << msg;
}

TEST(TiffDocument, TruncatedTiffIsInvalidInput) {
  const std::string tiff = multipage_tiff({testing::test_pattern(64, 64), testing::test_pattern(64, 64)});
  try {
    auto doc = Document::open(tiff.substr(0, tiff.size() / 2), "cut.tiff");
    for (int i = 0; i < doc->page_count(); ++i) doc->render_page(i);
    ADD_FAILURE() << "a half TIFF rendered every page";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::kInvalidInput) << e.what();
    std::cout << "[ tiff   ] " << e.what() << "\n";
    EXPECT_NE(std::string(e.what()).find("cut.tiff"), std::string::npos) << e.what();
  }
}

TEST(ImageDocument, OneImageIsOnePage) {
  auto doc = Document::open(testing::encode(testing::test_pattern(8, 6), ".png"), "a.png");
  EXPECT_EQ(doc->format(), "png");
  ASSERT_EQ(doc->page_count(), 1);
  EXPECT_EQ(doc->render_page(0).width, 8);
  error_of([&] { doc->render_page(1); }, ErrorKind::kInvalidInput);
  error_of([] { Document::open(std::string(), "e.png"); }, ErrorKind::kInvalidInput);
  error_of([] { Document::open(std::string("plain text"), "t.txt"); }, ErrorKind::kInvalidInput);
  error_of([] { Document::open(std::string("GIF89a\xff\xff\xff\xff\0\0\0;", 14), "h.gif"); }, ErrorKind::kTooLarge);
}

}  // namespace
}  // namespace folio
