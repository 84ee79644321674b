// SAM's window geometry on token grids (window_token_rows, window_merge_rows) and
// Backend::window_attention's default: the windows cut with gather_rows (padding tokens from
// the padding row), attention() over them, and the real tokens' outputs gathered back into
// grid order.
#include <string>
#include <vector>

#include "backend/backend.h"
#include "core/error.h"

namespace folio {

std::vector<int32_t> window_token_rows(int64_t views, int64_t S, int64_t win) {
  const int64_t nw = (S + win - 1) / win, pad_row = views * S * S;
  std::vector<int32_t> rows;
  rows.reserve(static_cast<size_t>(views * nw * nw * win * win));
  for (int64_t b = 0; b < views; ++b)
    for (int64_t wy = 0; wy < nw; ++wy)
      for (int64_t wx = 0; wx < nw; ++wx)
        for (int64_t y = 0; y < win; ++y)
          for (int64_t x = 0; x < win; ++x) {
            const int64_t gy = wy * win + y, gx = wx * win + x;
            rows.push_back(static_cast<int32_t>(gy < S && gx < S ? (b * S + gy) * S + gx : pad_row));
          }
  return rows;
}

std::vector<int32_t> window_merge_rows(const std::vector<int32_t>& cut, int64_t tokens) {
  std::vector<int32_t> merge(static_cast<size_t>(tokens), -1);
  for (size_t i = 0; i < cut.size(); ++i)
    if (cut[i] >= 0 && cut[i] < tokens) merge[cut[i]] = static_cast<int32_t>(i);
  return merge;
}

std::vector<int32_t> window_token_rows(const Tensor& q, const Tensor& k, const Tensor& v, const Tensor& out,
                                       const AttentionSpec& spec, const char* op) {
  const int64_t S = spec.window_source_grid, win = spec.grid_w, C = int64_t(spec.heads) * spec.head_dim;
  if (S <= 0 || win <= 0 || spec.grid_h != win || q.ndim() != 2 || q.dim(1) != C || (q.dim(0) - 1) % (S * S) != 0 ||
      k.shape() != q.shape() || v.shape() != q.shape() || out.ndim() != 2 || out.dim(0) != q.dim(0) - 1 || out.dim(1) != C)
    throw internal_error(std::string(op) + ": q " + shape_str(q.shape()) + " out " + shape_str(out.shape()) +
                         " are not grids of " + std::to_string(S) + "^2 tokens (and a padding row) in " +
                         std::to_string(spec.grid_h) + "x" + std::to_string(spec.grid_w) + " windows");
  return window_token_rows((q.dim(0) - 1) / (S * S), S, win);
}

void Backend::window_attention(const Tensor& q, const Tensor& k, const Tensor& v, Tensor& out, const AttentionSpec& spec) {
  const std::vector<int32_t> cut = window_token_rows(q, k, v, out, spec, "window_attention");
  const std::vector<int32_t> merge = window_merge_rows(cut, out.dim(0));
  const int64_t N = int64_t(spec.grid_h) * spec.grid_w, C = q.dim(1);
  const Shape windows{static_cast<int64_t>(cut.size()) / N, N, C};
  Tensor qw = empty(windows, q.dtype()), kw = empty(windows, k.dtype()), vw = empty(windows, v.dtype());
  gather_rows(q, cut, qw);
  gather_rows(k, cut, kw);
  gather_rows(v, cut, vw);
  Tensor ow = empty(windows, out.dtype());
  attention(qw, kw, vw, ow, spec);  // window_source_grid: the padding's query rows may be skipped
  gather_rows(ow.reshape({-1, C}), merge, out);
}

}  // namespace folio
