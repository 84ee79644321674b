#include "engine/batch_engine.h"

#include <algorithm>
#include <chrono>

#include "core/error.h"
#include "text/loop_detector.h"
#include "text/ngram_ban.h"
#include "text/sampling.h"

namespace folio {

namespace {

using Clock = std::chrono::steady_clock;
double ms_between(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

Tensor host_i32(const Shape& shape) { return Tensor::zeros(shape, DType::kI32); }

}  // namespace

struct BatchEngine::Sequence {
  BatchRequest req;
  std::vector<int32_t> generated;
  std::vector<int32_t> blocks;
  int64_t cache_len = 0;   // tokens whose keys/values are in the cache
  int32_t next_input = 0;  // the last sampled id: the input of the next decode step
  int max_new = 0;
  LoopDetector loops;
  Clock::time_point admitted, decode_start;
  double prefill_ms = 0;
};

// Device state of one batch-size bucket: the decode batch, the sampler's inputs and the
// recorded step. Fixed addresses: the replayed graph reads and writes exactly these tensors.
struct BatchEngine::Bucket {
  size_t rows = 0;
  DecodeBatch batch;
  Tensor history, history_len, ngram, window;
  std::unique_ptr<Backend::Replay> replay;
  std::function<void()> body;
};

BatchEngine::BatchEngine(DeepseekOcrModel& model, const BatchEngineOptions& options)
    : model_(model), be_(model.backend()), decoder_(model.decoder()), opt_(options), blocks_(options.kv_blocks) {
  if (opt_.kv_blocks <= 0 || opt_.block_size <= 0 || opt_.max_batch <= 0)
    throw invalid_input("batch engine: kv_blocks, block_size and max_batch must be positive");
  opt_.max_context = std::min<int>(opt_.max_context, model.config().lm.max_positions);
  max_blocks_per_seq_ = (opt_.max_context + 1 + opt_.block_size - 1) / opt_.block_size + 1;
  history_cap_ = 256;  // n-gram windows up to 256 ids are banned on the device
  cache_ = decoder_.new_paged_cache(opt_.kv_blocks, opt_.block_size);
  Tensor white = host_i32({static_cast<int64_t>(kDefaultNgramWhitelist.size())});
  std::copy(kDefaultNgramWhitelist.begin(), kDefaultNgramWhitelist.end(), white.data<int32_t>());
  whitelist_ = be_.empty(white.shape(), DType::kI32);
  be_.write(whitelist_, white);
}

BatchEngine::~BatchEngine() = default;

void BatchEngine::submit(BatchRequest request) {
  const auto& lm = model_.config().lm;
  GenerateOptions& o = request.options;
  if (o.ngram.enabled && (o.ngram.ngram_size < 1 || o.ngram.window < o.ngram.ngram_size || o.ngram.window > history_cap_))
    throw invalid_input("n-gram ban needs 1 <= ngram_size <= window <= " + std::to_string(history_cap_));
  auto s = std::make_unique<Sequence>();
  const int64_t room = std::min<int64_t>(opt_.max_context, lm.max_positions) - int64_t(request.prompt.size()) - 1;
  if (room < 1)
    throw too_large("the prompt takes " + std::to_string(request.prompt.size()) + " tokens; the context is " +
                    std::to_string(opt_.max_context));
  s->max_new = static_cast<int>(std::min<int64_t>(std::max(1, o.max_tokens), room));
  s->req = std::move(request);
  waiting_.push_back(std::move(s));
}

bool BatchEngine::ensure_blocks(Sequence& s, int64_t upto_position) {
  const int64_t need = upto_position / opt_.block_size + 1;
  if (need > max_blocks_per_seq_) throw internal_error("batch engine: sequence outgrew its block table");
  while (static_cast<int64_t>(s.blocks.size()) < need) {
    const int32_t b = blocks_.take();
    if (b < 0) return false;
    s.blocks.push_back(b);
    tables_dirty_ = true;
  }
  return true;
}

namespace {

// Device bytes of prefill intermediates per prompt token (an upper estimate for the full-size
// decoder: the fp32 residual and router rows, q/k/v, the dense layer's 6848-wide SwiGLU rows or
// the MoE's per-(token, expert) rows and fp32 partial sums, the logits of the last rows).
constexpr int64_t kPrefillBytesPerToken = 96 << 10;

// The prompt a (re)admitted sequence prefills: everything but its last generated id, which is
// the next input.
std::vector<int32_t> prefix_of(const BatchRequest& req, const std::vector<int32_t>& generated) {
  std::vector<int32_t> prefix = req.prompt;
  if (!generated.empty()) prefix.insert(prefix.end(), generated.begin(), generated.end() - 1);
  return prefix;
}

}  // namespace

std::vector<Tensor> BatchEngine::encode_group(const std::vector<Sequence*>& group) {
  std::vector<Tensor> images(group.size());
  std::vector<const ViewPixels*> pages;
  for (Sequence* s : group)
    if (s->req.pixels) pages.push_back(s->req.pixels.get());
  if (!pages.empty()) {
    const Tensor all = model_.encode_batch(pages);
    int64_t off = 0;
    for (size_t i = 0; i < group.size(); ++i) {
      const ViewPixels* v = group[i]->req.pixels.get();
      if (!v) continue;
      const int64_t rows = image_block_rows(v->base_size, v->tile_size, v->grid_w, v->grid_h, v->tiled());
      images[i] = all.rows(off, off + rows);
      off += rows;
    }
  }
  for (size_t i = 0; i < group.size(); ++i)
    if (!group[i]->req.pixels && group[i]->req.image) images[i] = group[i]->req.image();
  return images;
}

bool BatchEngine::admit_group() {
  {  // A request that needs more blocks than the whole cache fails alone.
    Sequence& s = *waiting_.front();
    const int64_t L = static_cast<int64_t>(s.req.prompt.size() + (s.generated.empty() ? 0 : s.generated.size() - 1));
    if ((L + 1) / opt_.block_size + 1 > blocks_.total()) {
      GenerateResult r;
      r.reason = FinishReason::error;
      auto done = std::move(s.req.on_done);
      waiting_.pop_front();
      if (done) done(std::move(r));
      return true;
    }
  }
  // The group: requests from the front, in order, while rows, blocks, the memory estimate and
  // the view geometry allow.
  std::vector<std::unique_ptr<Sequence>> group;
  std::vector<std::vector<int32_t>> prefixes;
  std::vector<const ViewPixels*> geometry;
  int64_t free_blocks = blocks_.free(), memory = 0;
  const size_t cap = std::max(1, opt_.max_admit);
  while (!waiting_.empty() && group.size() < cap && running_.size() + group.size() < size_t(opt_.max_batch)) {
    Sequence& s = *waiting_.front();
    std::vector<int32_t> prefix = prefix_of(s.req, s.generated);
    const int64_t L = static_cast<int64_t>(prefix.size());
    const int64_t need = (L + 1) / opt_.block_size + 1;  // the prefix, the next input and one step ahead
    if (need > free_blocks) break;
    const ViewPixels* px = s.req.pixels.get();
    if (px && !std::all_of(geometry.begin(), geometry.end(), [&](const ViewPixels* g) { return views_batchable(*g, *px); }))
      break;
    const int64_t bytes =
        L * kPrefillBytesPerToken + (px ? encoder_activation_bytes(*px, model_.config().sam.width) : 0);
    if (!group.empty() && memory + bytes > opt_.admit_memory) break;
    memory += bytes;
    free_blocks -= need;
    if (px) geometry.push_back(px);
    prefixes.push_back(std::move(prefix));
    group.push_back(std::move(waiting_.front()));
    waiting_.pop_front();
  }
  if (group.empty()) return false;

  const auto t0 = Clock::now();
  std::vector<Sequence*> members;
  for (auto& s : group) {
    members.push_back(s.get());
    if (s->generated.empty()) {
      s->admitted = t0;
      if (s->req.on_admit) s->req.on_admit();
    }
  }
  int64_t total = 0;
  for (size_t i = 0; i < group.size(); ++i) {
    ensure_blocks(*group[i], static_cast<int64_t>(prefixes[i].size()) + 1);
    total += static_cast<int64_t>(prefixes[i].size());
  }
  Tensor slots = host_i32({total});
  int32_t* sp = slots.data<int32_t>();
  for (size_t i = 0; i < group.size(); ++i)
    for (int64_t p = 0; p < static_cast<int64_t>(prefixes[i].size()); ++p)
      *sp++ = group[i]->blocks[p / opt_.block_size] * opt_.block_size + int32_t(p % opt_.block_size);
  Tensor dslots = be_.empty({total}, DType::kI32);
  be_.write(dslots, slots);

  const std::vector<Tensor> images = encode_group(members);
  be_.synchronize();
  const auto t1 = Clock::now();
  std::vector<Decoder::PrefillSequence> seqs(group.size());
  for (size_t i = 0; i < group.size(); ++i) {
    seqs[i].ids = &prefixes[i];
    seqs[i].image_embeds = images[i].defined() ? &images[i] : nullptr;
  }
  const std::vector<float> logits = decoder_.prefill_paged_batch(cache_, dslots, seqs, model_.config().image_token,
                                                                 opt_.prefill_device_routing);
  const auto t2 = Clock::now();
  stats_.encoder_ms += ms_between(t0, t1);
  for (auto& s : group)
    if (s->generated.empty() && s->req.on_encoded) s->req.on_encoded(ms_between(t0, t1));
  stats_.prefill_ms += ms_between(t1, t2);
  stats_.prefills += static_cast<int64_t>(group.size());
  ++stats_.admit_groups;
  stats_.max_admit_group = std::max<int>(stats_.max_admit_group, static_cast<int>(group.size()));
  dirty_ = true;

  const size_t vocab = static_cast<size_t>(model_.config().lm.vocab);
  for (size_t i = 0; i < group.size(); ++i) {
    Sequence& s = *group[i];
    s.cache_len = static_cast<int64_t>(prefixes[i].size());
    running_.push_back(std::move(group[i]));
    if (!s.generated.empty()) {  // resumed: the next input is already known
      s.next_input = s.generated.back();
      continue;
    }
    s.prefill_ms = ms_between(s.admitted, t2);
    start_decoding(s, std::vector<float>(logits.begin() + i * vocab, logits.begin() + (i + 1) * vocab));
  }
  return true;
}

// The first token of a freshly prefilled sequence, the last one in running_.
void BatchEngine::start_decoding(Sequence& s, std::vector<float> logits) {
  s.decode_start = Clock::now();
  const int32_t tok = greedy_pick(logits, {});
  if (s.req.on_first_token) s.req.on_first_token();
  accept_token(running_.size() - 1, tok);
}

void BatchEngine::accept_token(size_t index, int32_t tok) {
  Sequence& s = *running_[index];
  if (tok == model_.config().lm.eos && !s.req.ignore_eos) {
    finish(index, FinishReason::stop);
    return;
  }
  s.generated.push_back(tok);
  s.next_input = tok;
  if (s.req.options.on_token) s.req.options.on_token(tok);
  if (s.req.options.detect_loops && s.loops.add(tok)) finish(index, FinishReason::repetition);
  else if (static_cast<int>(s.generated.size()) >= s.max_new) finish(index, FinishReason::length);
}

void BatchEngine::finish(size_t index, FinishReason reason) {
  std::unique_ptr<Sequence> s = std::move(running_[index]);
  running_.erase(running_.begin() + static_cast<std::ptrdiff_t>(index));
  blocks_.give_back(s->blocks);
  dirty_ = true;
  GenerateResult r;
  r.tokens = std::move(s->generated);
  r.reason = reason;
  r.prefill_ms = s->prefill_ms;
  r.decode_ms = ms_between(s->decode_start, Clock::now());
  if (s->req.on_done) s->req.on_done(std::move(r));
}

void BatchEngine::preempt_newest() {
  std::unique_ptr<Sequence> s = std::move(running_.back());
  running_.pop_back();
  blocks_.give_back(s->blocks);
  s->cache_len = 0;
  waiting_.push_front(std::move(s));
  ++stats_.preemptions;
  dirty_ = true;
}

BatchEngine::Bucket& BatchEngine::bucket_for(size_t rows) {
  size_t size = 1;
  while (size < rows) size *= 2;
  size = std::min<size_t>(size, static_cast<size_t>(opt_.max_batch));
  auto it = buckets_.find(size);
  if (it != buckets_.end()) return *it->second;
  auto b = std::make_unique<Bucket>();
  b->rows = size;
  const int64_t R = static_cast<int64_t>(size);
  DecodeBatch& d = b->batch;
  for (Tensor* t : {&d.tokens, &d.positions, &d.seq_lens, &d.slots}) *t = be_.empty({R}, DType::kI32);
  d.block_table = be_.empty({R, max_blocks_per_seq_}, DType::kI32);
  d.logits = be_.empty({R, model_.config().lm.vocab}, DType::kF32);
  b->history = be_.empty({R, history_cap_}, DType::kI32);
  for (Tensor* t : {&b->history_len, &b->ngram, &b->window}) *t = be_.empty({R}, DType::kI32);
  Bucket* raw = b.get();
  b->body = [this, raw] {
    DecodeBatch& batch = raw->batch;
    decoder_.decode_step(cache_, batch);
    be_.greedy_next(batch.logits, raw->history, raw->history_len, raw->ngram, raw->window, whitelist_, batch.tokens);
    be_.advance_positions(batch.positions, batch.seq_lens, batch.slots, batch.block_table, opt_.block_size);
  };
  // One step with every row inactive (nothing is written to the cache) creates the lazily
  // built pieces (matrix-product plans, expert tables) outside the capture, then record.
  std::vector<std::unique_ptr<Sequence>> keep;
  keep.swap(running_);
  upload_state(*b);
  raw->body();
  keep.swap(running_);
  if (opt_.graphs) {
    b->replay = be_.capture(raw->body);
    ++stats_.graph_captures;
  }
  current_ = nullptr;
  return *buckets_.emplace(size, std::move(b)).first->second;
}

void BatchEngine::upload_state(Bucket& b) {
  const int64_t R = static_cast<int64_t>(b.rows), cap = history_cap_, mb = max_blocks_per_seq_;
  Tensor tokens = host_i32({R}), positions = host_i32({R}), seq_lens = host_i32({R}), slots = host_i32({R});
  Tensor table = host_i32({R, mb}), history = host_i32({R, cap}), history_len = host_i32({R}), ngram = host_i32({R}),
         window = host_i32({R});
  for (int64_t i = 0; i < R; ++i) {
    if (i >= static_cast<int64_t>(running_.size())) {
      positions.data<int32_t>()[i] = -1;
      slots.data<int32_t>()[i] = -1;
      continue;
    }
    const Sequence& s = *running_[i];
    const int64_t p = s.cache_len;
    tokens.data<int32_t>()[i] = s.next_input;
    positions.data<int32_t>()[i] = static_cast<int32_t>(p);
    seq_lens.data<int32_t>()[i] = static_cast<int32_t>(p + 1);
    slots.data<int32_t>()[i] = s.blocks[p / opt_.block_size] * opt_.block_size + int32_t(p % opt_.block_size);
    std::copy(s.blocks.begin(), s.blocks.end(), table.data<int32_t>() + i * mb);
    const int64_t n = static_cast<int64_t>(s.generated.size()), keep = std::min(n, cap);
    std::copy(s.generated.end() - keep, s.generated.end(), history.data<int32_t>() + i * cap + (cap - keep));
    history_len.data<int32_t>()[i] = static_cast<int32_t>(n);
    const NgramOptions& ng = s.req.options.ngram;
    ngram.data<int32_t>()[i] = ng.enabled ? ng.ngram_size : 0;
    window.data<int32_t>()[i] = ng.enabled ? ng.window : 0;
  }
  DecodeBatch& d = b.batch;
  be_.write(d.tokens, tokens);
  be_.write(d.positions, positions);
  be_.write(d.seq_lens, seq_lens);
  be_.write(d.slots, slots);
  be_.write(d.block_table, table);
  be_.write(b.history, history);
  be_.write(b.history_len, history_len);
  be_.write(b.ngram, ngram);
  be_.write(b.window, window);
  current_ = &b;
  dirty_ = false;
  tables_dirty_ = false;
}

void BatchEngine::upload_block_tables(Bucket& b) {
  const int64_t R = static_cast<int64_t>(b.rows), mb = max_blocks_per_seq_;
  Tensor table = host_i32({R, mb});
  for (size_t i = 0; i < running_.size(); ++i)
    std::copy(running_[i]->blocks.begin(), running_[i]->blocks.end(), table.data<int32_t>() + i * mb);
  be_.write(b.batch.block_table, table);
  tables_dirty_ = false;
}

bool BatchEngine::step() {
  while (!waiting_.empty() && running_.size() < static_cast<size_t>(opt_.max_batch) && admit_group()) {
  }
  for (size_t i = running_.size(); i-- > 0;)
    if (running_[i]->req.options.cancel && running_[i]->req.options.cancel->load()) finish(i, FinishReason::cancelled);
  if (running_.empty()) {
    if (!waiting_.empty())
      throw internal_error("batch engine: a waiting request fits in no free KV blocks although nothing runs");
    return false;
  }
  // Every running row needs the block of its input position and of the next one (the step
  // moves each row ahead on the device). Out of blocks: the newest sequence makes room.
  for (size_t i = 0; i < running_.size();) {
    Sequence& s = *running_[i];
    if (ensure_blocks(s, s.cache_len + 1)) {
      ++i;
      continue;
    }
    preempt_newest();
    if (i >= running_.size()) break;
  }
  if (running_.empty()) return true;
  Bucket& b = bucket_for(running_.size());
  if (current_ != &b || dirty_) upload_state(b);
  else if (tables_dirty_) upload_block_tables(b);
  if (b.replay) b.replay->replay();
  else b.body();
  const Tensor next = be_.to_host(b.batch.tokens);  // waits for the step
  ++stats_.steps;
  stats_.max_running = std::max<int>(stats_.max_running, static_cast<int>(running_.size()));
  // Backwards: finishing row i removes it from running_ without moving the rows before it.
  for (size_t i = running_.size(); i-- > 0;) {
    running_[i]->cache_len += 1;  // the step stored its input's keys/values
    ++stats_.tokens;
    accept_token(i, next.data<int32_t>()[i]);
  }
  return true;
}

}  // namespace folio
