// The int8 attention (AttentionSpec::int8, backend/cpu/attention_int8.h) against the fp32
// attention of the same backend (itself checked against a double reference in
// cpu_ops_test.cpp), and its AVX-512 packers against the scalar one byte for byte. Skipped on
// CPUs without AVX512-VNNI, where the backend runs fp32 attention for int8 specs.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <random>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "backend/cpu/attention_int8.h"
#include "backend/cpu/int8_linear.h"
#include "core/error.h"
#include "core/packed_int8.h"

#include "support/random_data.h"

using namespace folio;

namespace {

using folio::testing::randn;

std::pair<double, double> compare(const Tensor& a, const Tensor& b) {
  double md = 0, ss = 0, aa = 0, ab = 0;
  for (int64_t i = 0; i < b.numel(); ++i) {
    const double x = a.data<float>()[i], y = b.data<float>()[i];
    md = std::max(md, std::fabs(x - y));
    ss += y * y;
    aa += x * x;
    ab += x * y;
  }
  return {md / std::sqrt(ss / b.numel()), ab / std::sqrt(aa * ss)};
}

struct Case {
  int batch, heads, grid_h, grid_w;
  bool rel, causal;
};

}  // namespace

TEST(Int8Attention, CloseToFp32Attention) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  auto be = make_backend("cpu");
  const int D = 64;
  // Key counts that are not multiples of 4 or 16, one past the 36-row query block, a causal
  // mask, and a SAM-like global grid with peaked logits (q scaled up).
  const Case cases[] = {{2, 3, 5, 7, true, false}, {1, 2, 1, 37, false, true}, {3, 2, 14, 14, true, false},
                        {1, 2, 24, 24, true, false}, {1, 1, 1, 257, false, false}};
  uint32_t seed = 100;
  for (const Case& c : cases) {
    const int64_t N = int64_t(c.grid_h) * c.grid_w, C = int64_t(c.heads) * D;
    const float q_scale = c.grid_h == 24 ? 3.0f : 1.0f;
    Tensor q = Tensor::from_f32(randn(c.batch * N * C, seed++, q_scale), {c.batch, N, C});
    Tensor k = Tensor::from_f32(randn(c.batch * N * C, seed++), {c.batch, N, C});
    Tensor v = Tensor::from_f32(randn(c.batch * N * C, seed++), {c.batch, N, C});
    AttentionSpec s;
    s.heads = c.heads;
    s.head_dim = D;
    s.scale = 0.125f;
    s.causal = c.causal;
    if (c.rel) {
      s.rel_pos_h = Tensor::from_f32(randn((2 * c.grid_h - 1) * D, seed++, 0.3f), {2 * c.grid_h - 1, D});
      s.rel_pos_w = Tensor::from_f32(randn((2 * c.grid_w - 1) * D, seed++, 0.3f), {2 * c.grid_w - 1, D});
      s.grid_h = c.grid_h;
      s.grid_w = c.grid_w;
    }
    Tensor want = be->empty({c.batch, N, C}, DType::kF32), got = be->empty({c.batch, N, C}, DType::kF32);
    be->attention(q, k, v, want, s);
    s.int8 = true;
    be->attention(q, k, v, got, s);
    const auto [rel, cosine] = compare(got, want);
    const std::string what = "grid " + std::to_string(c.grid_h) + "x" + std::to_string(c.grid_w);
    std::printf("%-12s max rel %.4f cosine %.6f\n", what.c_str(), rel, cosine);
    // Measured 0.04-0.06 max rel, 0.14 for the peaked grid (the int8 logits' error, amplified
    // by the softmax); cosine >= 0.99993.
    EXPECT_LT(rel, 0.2) << what;
    EXPECT_GT(cosine, 0.9995) << what;
  }
}

// SAM's windows with AttentionSpec::window_source_grid: the rows of real tokens get bit for bit
// the outputs of the run without the hint (the padding rows are skipped, their keys and values
// still used); edge windows of 36+ real rows exercise the gathered, non-consecutive blocks. A
// batch that is not whole views of windows is refused.
TEST(Int8Attention, WindowPaddingRowsAreSkippedWithoutChangingTheOthers) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  auto be = make_backend("cpu");
  const int D = 64, heads = 2, win = 14, source = 40, nw = 3, views = 2;  // 40 = 14 + 14 + 12
  const int64_t B = views * nw * nw, N = win * win, C = heads * D;
  const Tensor q = Tensor::from_f32(randn(B * N * C, 31), {B, N, C});
  const Tensor k = Tensor::from_f32(randn(B * N * C, 32), {B, N, C});
  const Tensor v = Tensor::from_f32(randn(B * N * C, 33), {B, N, C});
  AttentionSpec s;
  s.heads = heads;
  s.head_dim = D;
  s.int8 = true;
  s.rel_pos_h = Tensor::from_f32(randn((2 * win - 1) * D, 34, 0.3f), {2 * win - 1, D});
  s.rel_pos_w = Tensor::from_f32(randn((2 * win - 1) * D, 35, 0.3f), {2 * win - 1, D});
  s.grid_h = s.grid_w = win;
  Tensor all = be->empty({B, N, C}, DType::kF32), real_only = be->empty({B, N, C}, DType::kF32);
  be->attention(q, k, v, all, s);
  s.window_source_grid = source;
  std::fill(real_only.data<float>(), real_only.data<float>() + real_only.numel(), -7.0f);
  be->attention(q, k, v, real_only, s);
  int64_t compared = 0, untouched = 0;
  for (int64_t i = 0; i < real_only.numel(); i += C) untouched += real_only.data<float>()[i] == -7.0f;
  for (int64_t b = 0; b < B; ++b) {
    const int64_t w = b % (nw * nw), real_h = std::min(win, source - int(w / nw) * win),
                  real_w = std::min(win, source - int(w % nw) * win);
    for (int64_t y = 0; y < real_h; ++y)
      for (int64_t x = 0; x < real_w; ++x) {
        const int64_t row = b * N + y * win + x;
        ASSERT_EQ(0, std::memcmp(all.data<float>() + row * C, real_only.data<float>() + row * C, C * sizeof(float)))
            << "window " << b << " token " << y << "," << x;
        ++compared;
      }
  }
  EXPECT_EQ(compared, views * source * source);
  EXPECT_EQ(untouched, B * N - views * source * source) << "the padding rows were computed";
  s.window_source_grid = 50;  // 4 x 4 windows a view: 18 is not a multiple of 16
  EXPECT_THROW(be->attention(q, k, v, real_only, s), Error);
}

TEST(Int8Attention, VectorPackersWriteTheScalarPackersBytes) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  using namespace packed_int8;
  const int64_t rows = 37, K = 64, stride = 80;  // strided rows, a partial last group
  const std::vector<float> src = randn(rows * stride, 7);
  const int64_t bytes = padded_rows(rows) * (padded_k(K) + kRowExtra);
  std::vector<int8_t> scalar(bytes), vec(bytes);
  pack_rows(src.data(), rows, K, stride, scalar.data());
  cpu::pack_rows_vnni(src.data(), rows, K, stride, vec.data());
  EXPECT_EQ(scalar, vec);

  // Columns: the transpose of [keys = 37, cols = 32] packed as 32 rows of 37.
  const int64_t keys = 37, cols = 32;
  std::vector<float> transposed(cols * keys);
  for (int64_t j = 0; j < keys; ++j)
    for (int64_t c = 0; c < cols; ++c) transposed[c * keys + j] = src[j * stride + c];
  const int64_t col_bytes = padded_rows(cols) * (padded_k(keys) + kRowExtra);
  std::vector<int8_t> want(col_bytes), got(col_bytes);
  pack_rows(transposed.data(), cols, keys, keys, want.data());
  cpu::pack_cols_vnni(src.data(), keys, cols, stride, got.data());
  EXPECT_EQ(want, got);
}

// The packers divide by the scale through its reciprocal and one FMA correction (exact for
// normal scales), and by vdivps below 2^-100. Rows whose maxima span the float range, filled
// with sweeps of the floats under their maximum and with values a few ulps from the codes'
// rounding ties, must give the scalar packer's bytes.
TEST(Int8Attention, VectorPackersMatchTheDivisionAtEveryScale) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  using namespace packed_int8;
  const int64_t K = 64;
  const std::vector<float> tops = {1.0f,    127.0f,  0.3f,    3.5e-5f, 7.0e12f, 3.0e38f,
                                   1e-28f,  1e-30f,  1.5e-36f, 1e-37f, 1e-39f,  1e-44f};
  const int64_t rows_per_top = 512, rows = rows_per_top * static_cast<int64_t>(tops.size());
  std::vector<float> src(rows * K);
  std::mt19937 rng(11);
  for (size_t i = 0; i < tops.size(); ++i) {
    uint32_t bits;
    std::memcpy(&bits, &tops[i], 4);
    for (int64_t r = 0; r < rows_per_top; ++r) {
      float* row = src.data() + (i * rows_per_top + r) * K;
      row[0] = tops[i];
      const float scale = tops[i] / 127.0f;
      for (int64_t k = 1; k < K; ++k) {
        if (r % 2 == 0) {  // a sweep of the floats below the maximum
          const uint32_t below = bits - std::min<uint32_t>(bits, static_cast<uint32_t>(r * (K - 1) + k) * 97u);
          std::memcpy(&row[k], &below, 4);
        } else {  // a few ulps around a rounding tie (c + 1/2) * scale, where a quotient off by an ulp changes the code
          const float tie = (static_cast<float>(rng() % 127) + 0.5f) * scale;
          row[k] = tie;
          for (int64_t step = static_cast<int64_t>(rng() % 7) - 3; step != 0; step += step > 0 ? -1 : 1)
            row[k] = std::nextafter(row[k], step > 0 ? INFINITY : 0.0f);
          row[k] = std::min(row[k], tops[i]);
        }
        if (rng() & 1) row[k] = -row[k];
      }
    }
  }
  const int64_t bytes = padded_rows(rows) * (padded_k(K) + kRowExtra);
  std::vector<int8_t> scalar(bytes), vec(bytes);
  pack_rows(src.data(), rows, K, K, scalar.data());
  cpu::pack_rows_vnni(src.data(), rows, K, K, vec.data());
  EXPECT_EQ(scalar, vec);

  // Columns: 64 keys of 16 channels from each block of rows, the channels then scaled by
  // their own maxima.
  const int64_t keys = K, cols = rows_per_top;
  for (size_t i = 0; i < tops.size(); ++i) {
    const float* block = src.data() + i * rows_per_top * K;  // [cols][keys]: channel c = row c
    std::vector<float> by_key(keys * cols);
    for (int64_t c = 0; c < cols; ++c)
      for (int64_t j = 0; j < keys; ++j) by_key[j * cols + c] = block[c * keys + j];
    const int64_t col_bytes = padded_rows(cols) * (padded_k(keys) + kRowExtra);
    std::vector<int8_t> want(col_bytes), got(col_bytes);
    pack_rows(block, cols, keys, keys, want.data());
    cpu::pack_cols_vnni(by_key.data(), keys, cols, cols, got.data());
    EXPECT_EQ(want, got) << "channels scaled near " << tops[i];
  }
}

// The softmax step alone against double precision: every code within one step of
// round(65535 * exp(s - max)) (the polynomial's error is ~1e-7, so a wrong coefficient, a
// wrong exponent or a mis-ordered byte plane shows up as codes far off), zeros past
// `visible`, the relative-position terms added, and the returned sum the sum of the codes.
// The relative-position products against double sums: table lengths with 4-vector chunks
// only and with a 1-, 2- or 3-vector tail, and row counts around the 4-12 row blocks; and a
// range of columns bit for bit the same as those columns of the whole table.
TEST(Int8Attention, RelPosProductsMatchDoublePrecision) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  const int64_t D = 64, ldq = 3 * D;
  uint32_t seed = 40;
  for (const int64_t T : {27, 63, 79, 127, 159}) {
    const int64_t Tp = (T + 15) / 16 * 16;
    const std::vector<float> tab = randn(T * D, seed++, 0.3f);
    std::vector<float> tab_t(D * Tp, 0.0f);
    for (int64_t t = 0; t < T; ++t)
      for (int64_t d = 0; d < D; ++d) tab_t[d * Tp + t] = tab[t * D + d];
    for (const int64_t rows : {1, 5, 13, 36}) {
      const std::vector<float> q = randn(rows * ldq, seed++);
      std::vector<float> out(rows * (Tp + 3), -1.0f);
      cpu::rel_pos_products_avx512(q.data(), ldq, rows, tab_t.data(), D, Tp, 0, Tp, out.data(), Tp + 3);
      // A range of columns (the softmax's rows of the table only): the same values there, and
      // nothing written elsewhere.
      for (const auto [t0, t1] : {std::pair<int64_t, int64_t>{16, Tp}, {0, 16}, {Tp - 16, Tp}, {16, Tp - 16}}) {
        if (t1 <= t0) continue;
        std::vector<float> part(rows * (Tp + 3), -1.0f);
        cpu::rel_pos_products_avx512(q.data(), ldq, rows, tab_t.data(), D, Tp, t0, t1, part.data(), Tp + 3);
        for (int64_t r = 0; r < rows; ++r)
          for (int64_t t = 0; t < Tp + 3; ++t)
            ASSERT_EQ(part[r * (Tp + 3) + t], t >= t0 && t < t1 ? out[r * (Tp + 3) + t] : -1.0f)
                << "T " << T << ", rows " << rows << ", columns " << t0 << ".." << t1 << ", column " << t;
      }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t t = 0; t < Tp; ++t) {
          double want = 0.0, scale = 0.0;
          for (int64_t d = 0; d < D && t < T; ++d) {
            want += double(q[r * ldq + d]) * tab[t * D + d];
            scale += std::fabs(double(q[r * ldq + d]) * tab[t * D + d]);
          }
          ASSERT_NEAR(out[r * (Tp + 3) + t], want, 1e-6 * scale + 1e-30)
              << "T " << T << ", rows " << rows << ", row " << r << ", column " << t;
        }
      for (int64_t r = 0; r < rows; ++r)
        for (int64_t t = Tp; t < Tp + 3; ++t) ASSERT_EQ(out[r * (Tp + 3) + t], -1.0f) << "wrote past Tp";
    }
  }
}

TEST(Int8Attention, SoftmaxCodesMatchDoublePrecision) {
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  struct Row {
    int64_t n, visible, grid_w;
    bool rel;
    float spread;
  };
  // Full 64-key chunks with and without a tail, a causal row, 14- and 40-wide grids, a row whose
  // logits span ~60 nats (codes down to 0) and one whose logits are all equal.
  const Row rows[] = {{4096, 4096, 64, true, 3.0f}, {200, 200, 0, false, 2.0f}, {196, 196, 14, true, 1.0f},
                      {1600, 1600, 40, true, 2.0f},
                      {257, 100, 0, false, 4.0f},   {128, 128, 0, false, 20.0f}, {64, 64, 0, false, 0.0f}};
  uint32_t seed = 500;
  for (const Row& r : rows) {
    const int64_t n_pad = (r.n + 3) / 4 * 4 + 4;
    std::vector<float> s = randn(r.n, seed++, r.spread), rel_rows, rel_cols;
    const std::vector<float> original = s;
    if (r.rel) {
      rel_rows = randn(r.n / r.grid_w, seed++, 0.5f);
      rel_cols = randn(r.grid_w, seed++, 0.5f);
    }
    std::vector<uint8_t> hi(n_pad, 0xAA), lo(n_pad, 0xAA);
    const int64_t sum = cpu::softmax_codes_vnni(s.data(), r.n, r.visible, r.rel ? rel_rows.data() : nullptr,
                                                r.rel ? rel_cols.data() : nullptr, r.grid_w, hi.data(), lo.data(), n_pad);
    std::vector<double> logit(r.n);
    double mx = -1e300;
    for (int64_t j = 0; j < r.n; ++j) {
      logit[j] = original[j] + (r.rel ? double(rel_rows[j / r.grid_w]) + rel_cols[j % r.grid_w] : 0.0);
      if (j < r.visible) mx = std::max(mx, logit[j]);
    }
    int64_t want_sum = 0, got_sum = 0, off = 0;
    for (int64_t j = 0; j < n_pad; ++j) {
      const int64_t code = int64_t(hi[j]) * 256 + lo[j];
      const double want = j < r.visible ? 65535.0 * std::exp(logit[j] - mx) : 0.0;
      got_sum += code;
      want_sum += std::llround(want);
      if (std::fabs(code - want) > 0.51 + 1e-5 * want) ++off;
    }
    EXPECT_EQ(off, 0) << "n=" << r.n << " visible=" << r.visible;
    EXPECT_EQ(sum, got_sum) << "n=" << r.n;
    EXPECT_LE(std::llabs(sum - want_sum), r.n / 8 + 1) << "n=" << r.n;
  }
}
