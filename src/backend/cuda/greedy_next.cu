// Greedy sampling with the windowed n-gram ban on the device (Backend::greedy_next): blocks
// (row, slice) find the banned ids from the row's recent history (text/ngram_ban.h, same rule),
// mask those in their slice of the row's logits and take the slice's arg-max (lowest id on
// ties); one block per row then picks the winner and appends it to the history. The host only
// reads the winners.
#include <initializer_list>
#include <climits>

#include "backend/cuda/cuda_ops.h"
#include "backend/cuda/kernel_util.cuh"

namespace folio::cuda {
namespace {

constexpr int kThreads = 256, kSlices = 32, kMaxHistory = 1024, kMaxWhite = 64;

// The arg-max over a slice of one row, lowest id on ties, after banning. Block (row, slice):
// every block of a row derives the same banned list from the history (cheap: at most the
// window's n-grams) and masks the banned ids that fall in its own slice, so no block writes
// what another reads. One block per row took ~20 us for a 129k vocabulary at batch 1.
__global__ void __launch_bounds__(kThreads) greedy_slice_kernel(float* logits, int64_t V, const int32_t* history,
                                                                 int cap, const int32_t* history_len,
                                                                 const int32_t* ngram, const int32_t* window,
                                                                 const int32_t* white, int n_white, float* part_v,
                                                                 int32_t* part_i) {
  __shared__ int32_t hist[kMaxHistory];
  __shared__ int32_t banned[kMaxHistory];
  __shared__ int n_banned;
  __shared__ float best_v[kThreads / 32];
  __shared__ int best_i[kThreads / 32];
  const int b = blockIdx.x, slice = blockIdx.y, tid = threadIdx.x;
  const int64_t per = (V + kSlices - 1) / kSlices, lo = slice * per, hi = min(V, lo + per);
  float* row = logits + int64_t(b) * V;
  const int32_t* h = history + int64_t(b) * cap;
  for (int i = tid; i < cap; i += kThreads) hist[i] = h[i];
  if (tid == 0) n_banned = 0;
  __syncthreads();
  const int n = history_len[b], N = ngram[b], Wn = min(window[b], cap);
  // o[i] = hist[cap - n + i]: the i-th generated id, for the last `cap` of them.
  if (N > 0 && n >= N) {
    const int first = max(0, n - Wn), last = n - N;
    for (int i = first + tid; i <= last; i += kThreads) {
      bool same = true;
      for (int j = 0; j < N - 1 && same; ++j) same = hist[cap - n + i + j] == hist[cap - n + (n - N + 1) + j];
      if (!same) continue;
      const int32_t id = hist[cap - n + i + N - 1];
      bool whitelisted = false;
      for (int w = 0; w < n_white; ++w) whitelisted |= white[w] == id;
      if (!whitelisted) banned[atomicAdd(&n_banned, 1)] = id;
    }
  }
  __syncthreads();
  for (int i = tid; i < n_banned; i += kThreads)
    if (banned[i] >= lo && banned[i] < hi) row[banned[i]] = -INFINITY;
  __syncthreads();
  float bv = -INFINITY;
  int bi = INT_MAX;
  for (int64_t v = lo + tid; v < hi; v += kThreads) {
    const float x = row[v];
    if (bi == INT_MAX || x > bv) {  // strictly greater: this thread's lowest id keeps a tie
      bv = x;
      bi = int(v);
    }
  }
  warp_argmax(bv, bi);
  if ((tid & 31) == 0) {
    best_v[tid >> 5] = bv;
    best_i[tid >> 5] = bi;
  }
  __syncthreads();
  if (tid == 0) {
    for (int w = 1; w < kThreads / 32; ++w)
      if (best_v[w] > bv || (best_v[w] == bv && best_i[w] < bi)) {
        bv = best_v[w];
        bi = best_i[w];
      }
    part_v[b * kSlices + slice] = bv;
    part_i[b * kSlices + slice] = bi;
  }
}

// The row's winner from its slices (lowest id on ties), appended to the history.
__global__ void __launch_bounds__(kThreads) greedy_finish_kernel(const float* part_v, const int32_t* part_i,
                                                                  int32_t* history, int cap, int32_t* history_len,
                                                                  int32_t* next) {
  __shared__ int32_t hist[kMaxHistory];
  __shared__ int32_t winner;
  const int b = blockIdx.x, tid = threadIdx.x;
  int32_t* h = history + int64_t(b) * cap;
  for (int i = tid; i < cap; i += kThreads) hist[i] = h[i];
  if (tid < 32) {
    float bv = tid < kSlices ? part_v[b * kSlices + tid] : -INFINITY;
    int bi = tid < kSlices ? part_i[b * kSlices + tid] : INT_MAX;
    warp_argmax(bv, bi);
    if (tid == 0) {
      winner = bi;
      next[b] = bi;
      history_len[b] += 1;
    }
  }
  __syncthreads();
  // Shift the history left by one and append the winner.
  for (int i = tid; i < cap - 1; i += kThreads) h[i] = hist[i + 1];
  if (tid == 0) h[cap - 1] = winner;
}

}  // namespace

void greedy_next(CudaContext& ctx, const Tensor& logits, Tensor& history, Tensor& history_len, const Tensor& ngram,
                 const Tensor& window, const Tensor& whitelist, Tensor& next) {
  const char* op = "greedy_next";
  for (const Tensor* t : std::initializer_list<const Tensor*>{&logits, &history, &history_len, &ngram, &window, &next}) require_device(*t, op, "argument");
  const int64_t V = logits.dim(-1), B = logits.numel() / std::max<int64_t>(V, 1), cap = history.dim(-1);
  const std::string shapes = describe("logits", logits) + ", " + describe("history", history);
  require(logits.dtype() == DType::kF32 && history.dtype() == DType::kI32 && history.numel() == B * cap &&
              history_len.numel() == B && ngram.numel() == B && window.numel() == B && next.numel() == B,
          op, "F32 logits [B, V], I32 history [B, cap], history_len/ngram/window/next [B] expected: " + shapes);
  require(cap > 0 && cap <= kMaxHistory, op, "history capacity must be 1.." + std::to_string(kMaxHistory) + ": " + shapes);
  const int n_white = whitelist.defined() ? static_cast<int>(whitelist.numel()) : 0;
  require(n_white <= kMaxWhite && (n_white == 0 || whitelist.device() == Device::kCUDA), op,
          "at most " + std::to_string(kMaxWhite) + " whitelisted ids, on the device");
  if (B == 0) return;
  static_assert(kSlices <= 32, "greedy_finish_kernel reduces the slices with one warp");
  DeviceScratch part_v = ctx.scratch(size_t(B) * kSlices * sizeof(float), op);
  DeviceScratch part_i = ctx.scratch(size_t(B) * kSlices * sizeof(int32_t), op);
  greedy_slice_kernel<<<dim3(unsigned(B), kSlices), kThreads, 0, ctx.stream()>>>(
      logits.data<float>(), V, history.data<int32_t>(), int(cap), history_len.data<int32_t>(), ngram.data<int32_t>(),
      window.data<int32_t>(), n_white ? whitelist.data<int32_t>() : nullptr, n_white, part_v.as<float>(),
      part_i.as<int32_t>());
  check_launch(op, shapes);
  greedy_finish_kernel<<<unsigned(B), kThreads, 0, ctx.stream()>>>(part_v.as<float>(), part_i.as<int32_t>(),
                                                                   history.data<int32_t>(), int(cap),
                                                                   history_len.data<int32_t>(), next.data<int32_t>());
  check_launch(op, shapes);
}

}  // namespace folio::cuda
