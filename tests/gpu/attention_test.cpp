// Flash attention against a double-precision host softmax(q·k^T·scale + bias)·v, evaluated on a
// sample of query rows (all heads) so that the 4096-token SAM case stays cheap on the host.
#include <cmath>

#include "gpu_test_util.h"

namespace folio::gpu_test {
namespace {

struct AttnCase {
  const char* name;
  int B, Nq, Nk, H, D;
  bool causal;
  int grid;  // > 0: SAM rel-pos over a grid x grid token grid (Nq == Nk == grid*grid)
  DType dt = DType::kBF16;  // q, k, v and out (F16: the vision encoder)
};

class AttentionTest : public GpuTest, public ::testing::WithParamInterface<AttnCase> {};

TEST_P(AttentionTest, MatchesHostReference) {
  const AttnCase c = GetParam();
  const int HD = c.H * c.D;
  std::vector<float> q = random_bf16(size_t(c.B) * c.Nq * HD, 201, -2.f, 2.f);
  std::vector<float> k = random_bf16(size_t(c.B) * c.Nk * HD, 202, -2.f, 2.f);
  std::vector<float> v = random_bf16(size_t(c.B) * c.Nk * HD, 203);
  AttentionSpec spec;
  spec.heads = c.H;
  spec.head_dim = c.D;
  spec.scale = 1.f / std::sqrt(float(c.D));
  spec.causal = c.causal;
  std::vector<float> rh, rw;
  if (c.grid > 0) {
    rh = random_bf16(size_t(2 * c.grid - 1) * c.D, 204, -0.5f, 0.5f);
    rw = random_bf16(size_t(2 * c.grid - 1) * c.D, 205, -0.5f, 0.5f);
    // The encoder hands f32 tables to f16 attention (rounded once, in the kernel).
    const DType tdt = c.dt == DType::kF16 ? DType::kF32 : DType::kBF16;
    spec.rel_pos_h = to_dev(*be, rh, {2 * c.grid - 1, c.D}, tdt);
    spec.rel_pos_w = to_dev(*be, rw, {2 * c.grid - 1, c.D}, tdt);
    spec.grid_h = spec.grid_w = c.grid;
  }
  Tensor out = be->empty({c.B, c.Nq, HD}, c.dt);
  be->attention(to_dev(*be, q, {c.B, c.Nq, HD}, c.dt), to_dev(*be, k, {c.B, c.Nk, HD}, c.dt),
                to_dev(*be, v, {c.B, c.Nk, HD}, c.dt), out, spec);
  std::vector<float> got_all = to_vec(*be, out);

  // Sampled query rows: the first, the last, and a stride through the middle (at most ~96).
  std::vector<int> rows;
  const int stride = std::max(1, c.Nq / 96);
  for (int i = 0; i < c.Nq; i += stride) rows.push_back(i);
  if (rows.back() != c.Nq - 1) rows.push_back(c.Nq - 1);

  std::vector<double> ref, logits(c.Nk);
  std::vector<float> got;
  for (int b = 0; b < c.B; ++b)
    for (int i : rows)
      for (int h = 0; h < c.H; ++h) {
        const float* qi = &q[(size_t(b) * c.Nq + i) * HD + h * c.D];
        double mx = -INFINITY;
        for (int j = 0; j < c.Nk; ++j) {
          if (c.causal && j > i + c.Nk - c.Nq) {
            logits[j] = -INFINITY;
            continue;
          }
          const float* kj = &k[(size_t(b) * c.Nk + j) * HD + h * c.D];
          double s = 0;
          for (int d = 0; d < c.D; ++d) s += double(qi[d]) * kj[d];
          s *= spec.scale;
          if (c.grid > 0) {
            const int dr = i / c.grid - j / c.grid + c.grid - 1, dc = i % c.grid - j % c.grid + c.grid - 1;
            for (int d = 0; d < c.D; ++d) s += double(qi[d]) * (rh[size_t(dr) * c.D + d] + double(rw[size_t(dc) * c.D + d]));
          }
          logits[j] = s;
          mx = std::max(mx, s);
        }
        double sum = 0;
        for (int j = 0; j < c.Nk; ++j) sum += logits[j] = std::exp(logits[j] - mx);
        for (int d = 0; d < c.D; ++d) {
          double acc = 0;
          for (int j = 0; j < c.Nk; ++j) acc += logits[j] * v[(size_t(b) * c.Nk + j) * HD + h * c.D + d];
          ref.push_back(acc / sum);
          got.push_back(got_all[(size_t(b) * c.Nq + i) * HD + h * c.D + d]);
        }
      }
  const double err = rel_err(got, ref), rerr = rms_err(got, ref);
  std::printf("attention %s B=%d Nq=%d Nk=%d H=%d D=%d%s%s %s: rel_err %.3g rms_err %.3g over %zu rows\n", c.name,
              c.B, c.Nq, c.Nk, c.H, c.D, c.causal ? " causal" : "", c.grid ? " rel-pos" : "", dtype_name(c.dt), err,
              rerr, rows.size() * c.B);
  const bool f16 = c.dt == DType::kF16;
  EXPECT_LE(err, f16 ? kF16Bound : kBf16Bound);
  EXPECT_LE(rerr, f16 ? kF16RmsBound : kBf16RmsBound);
}

INSTANTIATE_TEST_SUITE_P(
    Shapes, AttentionTest,
    ::testing::Values(AttnCase{"sam_global", 1, 4096, 4096, 12, 64, false, 64},
                      AttnCase{"sam_window", 3, 196, 196, 12, 64, false, 14},
                      // Small/Gundam tiles (40), Tiny (32), Large (80): the row-tiled kernel's
                      // other tile shapes (two rows of 40, two of 32, one of 80 per key tile).
                      AttnCase{"sam_tile40", 2, 1600, 1600, 12, 64, false, 40},
                      AttnCase{"sam_grid32", 1, 1024, 1024, 12, 64, false, 32},
                      AttnCase{"sam_grid80", 1, 6400, 6400, 4, 64, false, 80},
                      AttnCase{"sam_grid6", 2, 36, 36, 4, 64, false, 6},
                      AttnCase{"sam_grid20_generic", 1, 400, 400, 4, 64, false, 20},
                      // The conformance model's SAM: 2 heads of 32.
                      AttnCase{"sam_d32_global", 1, 4096, 4096, 2, 32, false, 64},
                      AttnCase{"sam_d32_window", 4, 196, 196, 2, 32, false, 14},
                      AttnCase{"clip", 2, 257, 257, 16, 64, false, 0},
                      AttnCase{"prefill", 1, 300, 300, 10, 128, true, 0},
                      AttnCase{"chunked_prefill", 1, 70, 300, 10, 128, true, 0},
                      AttnCase{"decode", 2, 1, 1000, 10, 128, true, 0},
                      AttnCase{"tiny", 2, 50, 50, 4, 32, true, 0},
                      AttnCase{"tiny_bidir", 1, 37, 37, 4, 32, false, 0},
                      // The conformance model's widths: head_dim 16, SAM rel-pos on an 8x8 grid.
                      AttnCase{"conformance_sam", 1, 64, 64, 4, 16, false, 8},
                      AttnCase{"conformance_causal", 1, 65, 65, 4, 16, true, 0},
                      // The vision encoder's f16 attention: both rel-pos kernels and CLIP's.
                      AttnCase{"sam_global_f16", 1, 4096, 4096, 12, 64, false, 64, DType::kF16},
                      AttnCase{"sam_window_f16", 3, 196, 196, 12, 64, false, 14, DType::kF16},
                      AttnCase{"sam_tile40_f16", 2, 1600, 1600, 12, 64, false, 40, DType::kF16},
                      AttnCase{"sam_grid20_generic_f16", 1, 400, 400, 4, 64, false, 20, DType::kF16},
                      AttnCase{"conformance_sam_f16", 1, 64, 64, 4, 16, false, 8, DType::kF16},
                      AttnCase{"clip_f16", 2, 257, 257, 16, 64, false, 0, DType::kF16}),
    [](const ::testing::TestParamInfo<AttnCase>& info) { return std::string(info.param.name); });

using AttentionErrors = GpuTest;
TEST_F(AttentionErrors, UnsupportedHeadDimThrows) {
  AttentionSpec spec;
  spec.heads = 2;
  spec.head_dim = 48;
  Tensor q = be->empty({1, 4, 96}, DType::kBF16), out = be->empty({1, 4, 96}, DType::kBF16);
  EXPECT_THROW(be->attention(q, q, q, out, spec), Error);
}

}  // namespace
}  // namespace folio::gpu_test
