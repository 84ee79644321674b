// Arbitrary damage to valid files must end in an Image or a folio::Error: never a crash,
// a hang, another exception type, or an image over the limits.
#include <unistd.h>

#include <cstdio>
#include <iostream>
#include <random>

#include <gtest/gtest.h>

#include "core/error.h"
#include "image/io/decode.h"
#include "image/io/document.h"
#include "support/pdf_writer.h"
#include "image_io_helpers.h"

namespace folio {
namespace {

std::string mutate(std::string b, std::mt19937& rng) {
  const int kind = rng() % 4;
  const int edits = 1 + rng() % 8;
  for (int e = 0; e < edits && !b.empty(); ++e) {
    const size_t at = rng() % b.size();
    switch (kind) {
      case 0: b[at] = static_cast<char>(rng()); break;                   // byte flip
      case 1: b[at] = static_cast<char>(b[at] ^ (1 << (rng() % 8))); break;  // bit flip
      case 2: b.resize(at); break;                                       // truncate
      default: b.insert(at, std::string(1 + rng() % 16, static_cast<char>(rng()))); break;
    }
  }
  return b;
}

TEST(DecodeMutations, TwoThousandDamagedFilesNeverCrash) {
  const cv::Mat pattern = testing::test_pattern(48, 32);
  const std::vector<std::string> seeds = {testing::encode(pattern, ".png"), testing::encode(pattern, ".jpg"),
                                          testing::encode(pattern, ".bmp")};
  DecodeLimits limits;
  limits.max_pixels = 4'000'000;  // keep a mutated header from asking for a big (legal) image
  std::mt19937 rng(1234);
  int images = 0, errors = 0;
  for (int i = 0; i < 2000; ++i) {
    const std::string bytes = mutate(seeds[i % seeds.size()], rng);
    try {
      const Image im = decode_image(bytes, "fuzz", limits);
      ASSERT_EQ(im.rgb.size(), static_cast<size_t>(im.width) * im.height * 3);
      ASSERT_LE(static_cast<int64_t>(im.width) * im.height, limits.max_pixels);
      ++images;
    } catch (const Error&) {
      ++errors;
    }
  }
  std::cout << "[ mutate ] " << images << " decoded, " << errors << " refused\n";
  EXPECT_EQ(images + errors, 2000);
  EXPECT_GT(errors, 100);  // the mutations really do break files
}

TEST(DocumentMutations, DamagedPdfsAndTiffsNeverCrash) {
  std::vector<cv::Mat> pages = {testing::test_pattern(40, 30), testing::test_pattern(20, 50)};
  const std::string tiff_path = "/tmp/folio_mutation_" + std::to_string(::getpid()) + ".tiff";
  ASSERT_TRUE(cv::imwritemulti(tiff_path, pages));
  const std::vector<std::string> seeds = {testing::make_text_pdf({{"Hello", "world"}, {"two"}}),
                                          testing::read_file(tiff_path)};
  std::remove(tiff_path.c_str());
  DocumentOptions opt;
  opt.dpi = 36;  // small renders keep the test fast
  opt.max_pages = 50;
  opt.limits.max_pixels = 4'000'000;
  std::mt19937 rng(99);
  int pages_ok = 0, errors = 0;
  for (int i = 0; i < 400; ++i) {
    const std::string bytes = mutate(seeds[i % seeds.size()], rng);
    try {
      auto doc = Document::open(bytes, "fuzz");
      for (int p = 0; p < doc->page_count(); ++p) {
        try {
          const Image im = doc->render_page(p);
          ASSERT_LE(static_cast<int64_t>(im.width) * im.height, opt.limits.max_pixels);
          ++pages_ok;
        } catch (const Error&) {
          ++errors;
        }
      }
    } catch (const Error&) {
      ++errors;
    }
  }
  std::cout << "[ mutate ] documents: " << pages_ok << " pages rendered, " << errors << " refused\n";
  EXPECT_GT(errors, 50);
}

}  // namespace
}  // namespace folio
