// Runs everywhere: make_backend("cuda") either works (a device is present) or says why not.
#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

TEST(CudaBackendFactory, ReportsDevicePresenceClearly) {
  if (no_gpu_reason().empty()) {
    auto be = make_backend("cuda");
    EXPECT_EQ(be->name(), "cuda");
    EXPECT_EQ(be->act_dtype(), DType::kBF16);
  } else {
    try {
      make_backend("cuda");
      FAIL() << "expected kUnavailable without a device";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::kUnavailable);
      EXPECT_NE(std::string(e.what()).find("CUDA device"), std::string::npos) << e.what();
    }
  }
}

}  // namespace
}  // namespace folio::gpu_test
