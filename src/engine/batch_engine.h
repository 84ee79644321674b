// Continuous batching for the VLM decoder over a paged KV cache (DESIGN.md, engine rules).
//
// Requests wait in a queue; each step the engine admits as many as the batch size and the free
// KV blocks allow, then runs ONE decode step
// for every running sequence together. A decode step is recorded once per batch-size bucket
// (1, 2, 4 ... max_batch) with Backend::capture and replayed: the step samples on the device
// (greedy + n-gram ban), feeds its own output to the next step and moves every row to its next
// cache slot, so the host only reads the new ids, streams them and checks the stop rules.
// Blocks are taken as sequences grow; when none is left the most recently admitted sequence is
// preempted (its blocks freed) and later resumed by recomputing its prefix, so a request never
// fails for memory.
// Admission works in groups: up to max_admit waiting requests from the front of the queue (in
// order) whose pages share a view geometry are encoded in one vision-encoder pass (requests
// that carry their view pixels) and prefilled in one decoder pass. A group is bounded by the
// free rows and KV blocks and by admit_memory, an estimate of the encoder's and the prefill's
// intermediates, so batching never asks the device for more than that.
//
// Threading: one thread drives the engine (submit/step/run); callbacks run on it.
#pragma once
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <vector>

#include "engine/generate.h"
#include "engine/kv_blocks.h"
#include "models/deepseek_ocr/model.h"

namespace folio {

struct BatchEngineOptions {
  int max_batch = 256;       // rows of the largest decode step
  int block_size = 32;       // tokens per KV block
  int64_t kv_blocks = 0;     // blocks in the cache (required)
  int max_context = 8192;    // the longest sequence; sizes the block tables
  bool graphs = true;        // capture decode steps (false: run them op by op)
  int max_admit = 16;        // requests admitted together (one encoder pass, one prefill pass)
  // Device bytes the intermediates of one admission group may take (estimated per page from
  // its encoder tokens and prompt length); one request is admitted whatever its estimate.
  int64_t admit_memory = int64_t(2) << 30;
  bool prefill_device_routing = true;  // MoE routing of the prefill stays on the device
};

struct BatchRequest {
  std::vector<int32_t> prompt;
  // The page's view pixels: the engine runs the vision encoder itself, batched with other
  // waiting pages of the same geometry. Shared (read only) so that many requests may use one.
  std::shared_ptr<const ViewPixels> pixels;
  // Or: returns the image rows for the prompt's placeholders (runs the vision encoder); called
  // at admission, again if the request is resumed after preemption. Used when `pixels` is null.
  // Both empty: text only.
  std::function<Tensor()> image;
  GenerateOptions options;   // max_tokens, n-gram ban, loop detection, cancel, on_token
  bool ignore_eos = false;   // benchmarks: run max_tokens whatever comes
  std::function<void(GenerateResult&&)> on_done;
  std::function<void()> on_first_token;  // after prefill (time to first token)
  std::function<void()> on_admit;        // admission of this request begins (before its encoder)
  // After the encoder pass that made this request's image rows, with its wall time in ms (one
  // pass serves the whole admission group).
  std::function<void(double)> on_encoded;
};

struct BatchEngineStats {
  int64_t steps = 0, tokens = 0, prefills = 0, preemptions = 0, graph_captures = 0;
  int64_t admit_groups = 0;  // prefill passes (each admits 1..max_admit requests)
  int max_admit_group = 0;
  double encoder_ms = 0, prefill_ms = 0;  // wall time of admission's encoder and prefill passes
  int max_running = 0;
};

class BatchEngine {
 public:
  BatchEngine(DeepseekOcrModel& model, const BatchEngineOptions& options);
  ~BatchEngine();

  void submit(BatchRequest request);
  // Admits waiting requests and runs one decode step. Returns false when nothing is left.
  bool step();
  void run() {
    while (step()) {
    }
  }
  size_t waiting() const { return waiting_.size(); }
  size_t running() const { return running_.size(); }
  const BatchEngineStats& stats() const { return stats_; }
  const BatchEngineOptions& options() const { return opt_; }

 private:
  struct Sequence;
  struct Bucket;
  // Admits the next group of waiting requests (see above). False when none could be admitted.
  bool admit_group();
  // Image rows of every group member (null entries: text only), pixel pages in one pass.
  std::vector<Tensor> encode_group(const std::vector<Sequence*>& group);
  void start_decoding(Sequence& s, std::vector<float> logits);
  // A new token for running_[index]: stop on EOS, else append, stream it and apply the loop
  // and length limits (finishing the sequence where one applies).
  void accept_token(size_t index, int32_t tok);
  bool ensure_blocks(Sequence& s, int64_t upto_position);
  void preempt_newest();
  void finish(size_t index, FinishReason reason);
  Bucket& bucket_for(size_t rows);
  void upload_state(Bucket& b);
  void upload_block_tables(Bucket& b);

  DeepseekOcrModel& model_;
  Backend& be_;
  Decoder& decoder_;
  BatchEngineOptions opt_;
  PagedKvCache cache_;
  KvBlocks blocks_;
  int max_blocks_per_seq_ = 0;
  int history_cap_ = 0;
  Tensor whitelist_;
  std::deque<std::unique_ptr<Sequence>> waiting_;
  std::vector<std::unique_ptr<Sequence>> running_;
  std::map<size_t, std::unique_ptr<Bucket>> buckets_;
  Bucket* current_ = nullptr;  // the bucket whose device state matches running_
  bool dirty_ = true;          // running_ changed since the last upload
  bool tables_dirty_ = false;  // a block was added to some sequence
  BatchEngineStats stats_;
};

}  // namespace folio
