// Not a test: timings of the batched vision encoder on a full-size checkpoint, for sizing the
// admission groups. Run by hand on the GPU machine:
//   FOLIO_TIMING_MODEL=/tmp/full folio_gpu_tests --gtest_also_run_disabled_tests \
//     --gtest_filter='*EncoderBatchTiming*'
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "gpu/gpu_test_util.h"
#include "models/deepseek_ocr/model.h"
#include "support/admission_checks.h"

using namespace folio;

namespace {
using Clock = std::chrono::steady_clock;
double ms(Clock::time_point a) { return std::chrono::duration<double, std::milli>(Clock::now() - a).count(); }
class EncoderTiming : public gpu_test::GpuTest {};
}  // namespace

TEST_F(EncoderTiming, DISABLED_EncoderBatchTiming) {
  const char* dir = std::getenv("FOLIO_TIMING_MODEL");
  if (!dir) GTEST_SKIP() << "FOLIO_TIMING_MODEL not set";
  auto model = DeepseekOcrModel::load(dir, *be);
  const ViewPixels page = folio::testing::random_page(1, 1024);
  // Host only: fresh buffers of one page and of 16 pages, written once (page faults).
  for (size_t pages : {1, 16}) {
    const auto t = Clock::now();
    std::vector<float> v(pages * page.global.size());
    std::memcpy(v.data(), page.global.data(), page.global.size() * sizeof(float));
    for (size_t i = 0; i < v.size(); i += 1024) v[i] += 1.f;
    std::printf("host fresh buffer of %zu pages: %.2f ms\n", pages, ms(t));
  }
  for (int B : {1, 2, 4, 8, 16, 1, 4, 16}) {
    std::vector<const ViewPixels*> pages(B, &page);
    be->synchronize();
    const auto t = Clock::now();
    Tensor e = model->encode_batch(pages);
    const double queued = ms(t);
    be->synchronize();
    const double total = ms(t);
    std::printf("encode_batch B=%2d: %.1f ms (%.1f ms/page; host returned after %.1f ms)\n", B, total, total / B, queued);
  }
}
