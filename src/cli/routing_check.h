// Routing near-ties for conformance on a bf16 device. The MoE's top-k is a discrete choice: where
// the fp32 reference's k-th and (k+1)-th experts are closer than a bf16 device's own router
// error, the device may pick the other one, and that row's output then differs by a whole
// expert, far beyond any stage tolerance, while nothing is wrong. The golden README's rule for
// greedy tokens (a step must match when its margin exceeds our own error) applies to routing in
// the same way:
// - the reference pass (fp32, CPU) records every MoE layer's router probabilities;
// - on the device pass, the router error is the largest difference between the device's weights
//   and the reference's over the rows where both chose the same experts;
// - a row chosen differently is a near-tie when its reference margin (k-th minus (k+1)-th
//   probability) is at most twice that error: the device then follows the reference's choice
//   for that row, so the stages after it compare the arithmetic rather than the tie;
// - any other difference is a routing failure, left as the device chose.
#pragma once
#include <map>
#include <string>
#include <vector>

#include "backend/backend.h"
#include "models/deepseek_ocr/stage.h"

namespace folio {

// One MoE layer of the reference pass.
struct ReferenceRouting {
  int64_t rows = 0, experts = 0, k = 0;
  std::vector<float> probs;      // [rows, experts], softmax of the fp32 router logits
  std::vector<int32_t> ids;      // [rows, k] as the reference chose
  std::vector<float> weights;    // [rows, k]
};

// Per layer: what the device did against the reference.
struct LayerRoutingOutcome {
  int layer = 0;
  int64_t rows = 0, near_ties = 0, failures = 0;
  double router_error = 0;      // largest |device weight - reference weight| over agreeing rows
  double largest_tie_margin = 0; // largest reference margin among the rows forced to the reference
  double smallest_failed_margin = 0;
};

class RoutingCheck {
 public:
  // Hook for the reference pass: records probabilities, ids and weights per layer.
  RouteHook recorder(Backend& be);
  // Hook for the device pass: compares with what recorder() saw and forces near-tied rows to
  // the reference's choice. Call after the reference pass of the same prompt.
  RouteHook forcer();

  bool pass() const;
  int64_t near_ties() const;
  std::string summary() const;  // one line: per layer, ties forced and failures with margins

 private:
  std::map<int, ReferenceRouting> reference_;
  std::vector<LayerRoutingOutcome> outcomes_;
};

}  // namespace folio
