// Host -> device writes through the pinned staging ring: uploads larger than one piece (a
// quarter of the 64 MiB ring) and more pieces in flight than the ring holds, same dtype and
// f32 -> bf16, each checked element for element after the device has them.
#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

using StagingTest = GpuTest;

TEST_F(StagingTest, LargeWritesArriveWholeAndRounded) {
  const int64_t n = int64_t(9) << 20;  // 36 MiB of f32: three pieces; 18 MiB of bf16: two
  std::vector<float> v(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) v[i] = float(i % 1000003) * 0.001f - 500.f;
  const Tensor host = Tensor::from_f32(v, {n});
  Tensor f = be->empty({n}, DType::kF32), b = be->empty({n}, DType::kBF16);
  for (int round = 0; round < 3; ++round) {  // 3 x 5 pieces: the ring wraps and waits
    be->write(f, host);
    be->write(b, host);
  }
  const Tensor hf = be->to_host(f), hb = be->to_host(b);
  for (int64_t i = 0; i < n; ++i) {
    ASSERT_EQ(hf.data<float>()[i], v[i]) << i;
    ASSERT_EQ(hb.data<uint16_t>()[i], f32_to_bf16(v[i])) << i;
  }
}

}  // namespace
}  // namespace folio::gpu_test
