// Backend::window_attention: SAM's windowed attention on token grids (backend.h). The default
// (windows cut with gather_rows around attention()) against windows cut here by hand, and the
// CPU's int8 attention reading the grid in place against that default, bit for bit.
#include <cstring>
#include <vector>

#include <gtest/gtest.h>

#include "backend/backend.h"
#include "backend/cpu/int8_linear.h"
#include "core/error.h"

#include "support/random_data.h"

using namespace folio;
using folio::testing::randn;

namespace {

// Two views of a 10 x 10 grid in 4 x 4 windows (3 a side, the last row and column of windows
// half padding), or of a 28 x 28 grid in SAM's 14 x 14 windows.
struct Grids {
  int views, S, win, heads, D;
  int64_t tokens() const { return int64_t(views) * S * S; }
  int64_t C() const { return int64_t(heads) * D; }
};

AttentionSpec spec_for(const Grids& g, bool int8) {
  AttentionSpec s;
  s.heads = g.heads;
  s.head_dim = g.D;
  s.scale = 0.125f;
  s.grid_h = s.grid_w = g.win;
  s.window_source_grid = g.S;
  s.int8 = int8;
  s.rel_pos_h = Tensor::from_f32(randn((2 * g.win - 1) * g.D, 5, 0.3f), {2 * g.win - 1, g.D});
  s.rel_pos_w = Tensor::from_f32(randn((2 * g.win - 1) * g.D, 6, 0.3f), {2 * g.win - 1, g.D});
  return s;
}

// Grid tokens, then the padding row.
Tensor grid_rows(const Grids& g, uint32_t seed) {
  return Tensor::from_f32(randn((g.tokens() + 1) * g.C(), seed), {g.tokens() + 1, g.C()});
}

}  // namespace

TEST(WindowAttention, DefaultEqualsWindowsCutByHand) {
  auto be = make_backend("cpu");
  const Grids g{2, 10, 4, 2, 16};
  const int64_t nw = 3, N = g.win * g.win, B = g.views * nw * nw, C = g.C();
  const Tensor q = grid_rows(g, 1), k = grid_rows(g, 2), v = grid_rows(g, 3);
  const AttentionSpec s = spec_for(g, false);
  Tensor got = be->empty({g.tokens(), C}, DType::kF32);
  be->window_attention(q, k, v, got, s);

  // By hand: window (b, wy, wx) token (y, x) is grid token (wy*win + y, wx*win + x) of view b,
  // or the padding row past the grid's edge.
  Tensor qw = be->empty({B, N, C}, DType::kF32), kw = be->empty({B, N, C}, DType::kF32),
         vw = be->empty({B, N, C}, DType::kF32), ow = be->empty({B, N, C}, DType::kF32);
  auto source_row = [&](int64_t w, int64_t i) {
    const int64_t b = w / (nw * nw), wy = w % (nw * nw) / nw, wx = w % nw;
    const int64_t gy = wy * g.win + i / g.win, gx = wx * g.win + i % g.win;
    return gy < g.S && gx < g.S ? (b * g.S + gy) * g.S + gx : g.tokens();
  };
  for (int64_t w = 0; w < B; ++w)
    for (int64_t i = 0; i < N; ++i) {
      const int64_t r = source_row(w, i);
      std::memcpy(qw.data<float>() + (w * N + i) * C, q.data<float>() + r * C, C * 4);
      std::memcpy(kw.data<float>() + (w * N + i) * C, k.data<float>() + r * C, C * 4);
      std::memcpy(vw.data<float>() + (w * N + i) * C, v.data<float>() + r * C, C * 4);
    }
  AttentionSpec plain = s;
  plain.window_source_grid = 0;
  be->attention(qw, kw, vw, ow, plain);
  int64_t compared = 0;
  for (int64_t w = 0; w < B; ++w)
    for (int64_t i = 0; i < N; ++i) {
      const int64_t r = source_row(w, i);
      if (r == g.tokens()) continue;
      ASSERT_EQ(0, std::memcmp(got.data<float>() + r * C, ow.data<float>() + (w * N + i) * C, C * 4))
          << "window " << w << " token " << i;
      ++compared;
    }
  EXPECT_EQ(compared, g.tokens());
}

TEST(WindowAttention, Int8InPlaceEqualsTheCutWindows) {
  auto be = make_backend("cpu");
  // In place for the int8 attention only (SAM cuts the windows itself otherwise).
  EXPECT_EQ(be->window_attention_in_place(spec_for(Grids{2, 10, 4, 2, 16}, true)), cpu::have_avx512_vnni());
  EXPECT_FALSE(be->window_attention_in_place(spec_for(Grids{2, 10, 4, 2, 16}, false)));
  if (!cpu::have_avx512_vnni()) GTEST_SKIP() << "no AVX512-VNNI on this CPU";
  // Small windows, and SAM's (196 tokens: blocks of 36 queries across edge windows' rows).
  for (const Grids& g : {Grids{2, 10, 4, 2, 16}, Grids{1, 40, 14, 2, 64}}) {
    const Tensor q = grid_rows(g, 11), k = grid_rows(g, 12), v = grid_rows(g, 13);
    const AttentionSpec s = spec_for(g, true);
    Tensor in_place = be->empty({g.tokens(), g.C()}, DType::kF32), cut = be->empty({g.tokens(), g.C()}, DType::kF32);
    be->window_attention(q, k, v, in_place, s);
    be->Backend::window_attention(q, k, v, cut, s);
    EXPECT_EQ(0, std::memcmp(in_place.data<float>(), cut.data<float>(), cut.numel() * 4)) << "grid " << g.S;
  }
}

TEST(WindowAttention, GridsThatDoNotFitAreRefused) {
  auto be = make_backend("cpu");
  const Grids g{2, 10, 4, 2, 16};
  const Tensor q = grid_rows(g, 21);
  Tensor out = be->empty({g.tokens(), g.C()}, DType::kF32);
  for (const bool int8 : {false, true}) {
    AttentionSpec s = spec_for(g, int8);
    s.window_source_grid = 9;  // 201 rows are not grids of 81 tokens and a padding row
    EXPECT_THROW(be->window_attention(q, q, q, out, s), Error) << "int8 " << int8;
    s.window_source_grid = 0;
    EXPECT_THROW(be->window_attention(q, q, q, out, s), Error) << "int8 " << int8;
  }
}
