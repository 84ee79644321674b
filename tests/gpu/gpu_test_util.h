// Helpers for the CUDA backend tests: skip without a device, bf16-exact random data, host/device
// round trips and the error measure max|a - b| / rms(ref) used throughout.
#pragma once
#include <cuda_runtime.h>
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/bf16.h"
#include "core/error.h"

namespace folio {
std::unique_ptr<Backend> make_cuda_backend();
}

namespace folio::gpu_test {

// Empty when a CUDA device is usable, else why not.
inline std::string no_gpu_reason() {
  int n = 0;
  const cudaError_t e = cudaGetDeviceCount(&n);
  if (e != cudaSuccess) {
    cudaGetLastError();
    return std::string("cudaGetDeviceCount failed: ") + cudaGetErrorString(e);
  }
  return n == 0 ? "cudaGetDeviceCount returned 0" : "";
}

class GpuTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const std::string why = no_gpu_reason();
    if (!why.empty()) GTEST_SKIP() << "no CUDA device (" << why << "): GPU tests skipped";
    be = make_cuda_backend();
  }
  std::unique_ptr<Backend> be;
};

// n values uniform in [lo, hi], rounded to bf16 so host and device see the same inputs.
inline std::vector<float> random_bf16(size_t n, uint32_t seed, float lo = -1.f, float hi = 1.f) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> dist(lo, hi);
  std::vector<float> v(n);
  for (float& x : v) x = round_to_bf16(dist(rng));
  return v;
}

// A host tensor of dtype dt holding v, then on the device.
inline Tensor to_dev(Backend& be, const std::vector<float>& v, const Shape& shape, DType dt) {
  Tensor h = Tensor::empty(shape, dt);
  EXPECT_EQ(static_cast<size_t>(h.numel()), v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    if (dt == DType::kF32) h.data<float>()[i] = v[i];
    else if (dt == DType::kBF16) h.data<uint16_t>()[i] = f32_to_bf16(v[i]);
    else h.data<uint16_t>()[i] = f32_to_f16(v[i]);
  }
  return be.to_device(h);
}

inline std::vector<float> to_vec(Backend& be, const Tensor& t) { return be.download_f32(t).to_vector_f32(); }

// max |got - ref| / rms(ref). Bound for bf16 outputs: 3e-2, the conformance README's bf16
// tolerance (one bf16 rounding of an output 4x the rms already costs up to 1.6e-2).
inline double rel_err(const std::vector<float>& got, const std::vector<double>& ref) {
  EXPECT_EQ(got.size(), ref.size());
  double max_diff = 0, sq = 0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    const double d = std::fabs(double(got[i]) - ref[i]);
    max_diff = std::isnan(d) ? INFINITY : std::max(max_diff, d);
    sq += ref[i] * ref[i];
  }
  const double rms = std::sqrt(sq / std::max<size_t>(ref.size(), 1));
  return max_diff / std::max(rms, 1e-30);
}

// rms(got - ref) / rms(ref): catches a wrong tile or row that the max-based measure would hide
// under bf16 rounding noise.
inline double rms_err(const std::vector<float>& got, const std::vector<double>& ref) {
  double se = 0, sq = 0;
  for (size_t i = 0; i < ref.size() && i < got.size(); ++i) {
    se += (got[i] - ref[i]) * (got[i] - ref[i]);
    sq += ref[i] * ref[i];
  }
  return std::sqrt(se / std::max(sq, 1e-300));
}

inline std::vector<double> as_double(const std::vector<float>& v) { return std::vector<double>(v.begin(), v.end()); }

constexpr double kBf16Bound = 3e-2;
constexpr double kBf16RmsBound = 6e-3;
// f16 outputs: 3 more mantissa bits than bf16, so an eighth of its bounds.
constexpr double kF16Bound = kBf16Bound / 8;
constexpr double kF16RmsBound = kBf16RmsBound / 8;

}  // namespace folio::gpu_test
