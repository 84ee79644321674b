#include "cli/routing_check.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <functional>

#include "core/error.h"

namespace folio {

namespace {

// The margin of a row's choice: k-th largest probability minus the (k+1)-th.
double choice_margin(const float* probs, int64_t experts, int64_t k) {
  if (k >= experts) return INFINITY;
  std::vector<float> p(probs, probs + experts);
  std::nth_element(p.begin(), p.begin() + k, p.end(), std::greater<float>());  // p[k]: (k+1)-th largest
  const float next = p[k];
  const float kth = *std::min_element(p.begin(), p.begin() + k);
  return double(kth) - next;
}

std::vector<int32_t> sorted_row(const std::vector<int32_t>& ids, int64_t row, int64_t k) {
  std::vector<int32_t> r(ids.begin() + row * k, ids.begin() + (row + 1) * k);
  std::sort(r.begin(), r.end());
  return r;
}

}  // namespace

RouteHook RoutingCheck::recorder(Backend& be) {
  return [this, &be](int layer, const Tensor& xn, const Tensor& router, std::vector<int32_t>& ids,
                     std::vector<float>& weights) {
    const Tensor x = be.download_f32(xn), w = router.to_f32();
    const int64_t D = x.dim(-1), rows = x.numel() / D, E = w.dim(0);
    ReferenceRouting r;
    r.rows = rows;
    r.experts = E;
    r.k = rows ? static_cast<int64_t>(ids.size()) / rows : 0;
    r.ids = ids;
    r.weights = weights;
    r.probs.resize(static_cast<size_t>(rows * E));
    std::vector<double> logit(E);
    for (int64_t t = 0; t < rows; ++t) {
      const float* xt = x.data<float>() + t * D;
      double top = -INFINITY, sum = 0;
      for (int64_t e = 0; e < E; ++e) {
        const float* we = w.data<float>() + e * D;
        double acc = 0;
        for (int64_t i = 0; i < D; ++i) acc += double(xt[i]) * we[i];
        logit[e] = acc;
        top = std::max(top, acc);
      }
      for (int64_t e = 0; e < E; ++e) sum += std::exp(logit[e] - top);
      for (int64_t e = 0; e < E; ++e) r.probs[t * E + e] = static_cast<float>(std::exp(logit[e] - top) / sum);
    }
    reference_[layer] = std::move(r);
  };
}

RouteHook RoutingCheck::forcer() {
  return [this](int layer, const Tensor&, const Tensor&, std::vector<int32_t>& ids, std::vector<float>& weights) {
    const auto it = reference_.find(layer);
    if (it == reference_.end()) throw internal_error("routing check: no reference for MoE layer " + std::to_string(layer));
    const ReferenceRouting& ref = it->second;
    const int64_t k = ref.k, rows = ref.rows;
    if (static_cast<int64_t>(ids.size()) != rows * k || weights.size() != ids.size())
      throw internal_error("routing check: layer " + std::to_string(layer) + " has " + std::to_string(ids.size()) +
                           " choices, the reference " + std::to_string(rows * k));
    LayerRoutingOutcome out;
    out.layer = layer;
    out.rows = rows;
    out.smallest_failed_margin = INFINITY;
    std::vector<bool> same(rows);
    for (int64_t t = 0; t < rows; ++t) {
      same[t] = sorted_row(ids, t, k) == sorted_row(ref.ids, t, k);
      if (!same[t]) continue;
      for (int64_t j = 0; j < k; ++j)
        for (int64_t i = 0; i < k; ++i)
          if (ref.ids[t * k + i] == ids[t * k + j])
            out.router_error = std::max(out.router_error, std::fabs(double(weights[t * k + j]) - ref.weights[t * k + i]));
    }
    for (int64_t t = 0; t < rows; ++t) {
      if (same[t]) continue;
      // The margin in the weights' units (weights are the probabilities times the routed scale,
      // or renormalised over the k chosen): the reference's own ratio for this row.
      const int32_t first = ref.ids[t * k];
      const double p_first = ref.probs[t * ref.experts + first];
      const double ratio = p_first > 0 ? ref.weights[t * k] / p_first : 1.0;
      const double margin = choice_margin(ref.probs.data() + t * ref.experts, ref.experts, k) * ratio;
      if (margin <= 2 * out.router_error) {
        std::copy_n(ref.ids.begin() + t * k, k, ids.begin() + t * k);
        std::copy_n(ref.weights.begin() + t * k, k, weights.begin() + t * k);
        ++out.near_ties;
        out.largest_tie_margin = std::max(out.largest_tie_margin, margin);
      } else {
        ++out.failures;
        out.smallest_failed_margin = std::min(out.smallest_failed_margin, margin);
      }
    }
    outcomes_.push_back(out);
  };
}

bool RoutingCheck::pass() const {
  if (outcomes_.empty()) return false;
  for (const auto& o : outcomes_)
    if (o.failures) return false;
  return true;
}

int64_t RoutingCheck::near_ties() const {
  int64_t n = 0;
  for (const auto& o : outcomes_) n += o.near_ties;
  return n;
}

std::string RoutingCheck::summary() const {
  std::string s;
  for (const auto& o : outcomes_) {
    char line[256];
    if (o.near_ties)
      std::snprintf(line, sizeof line, "%slayer %d: %lld of %lld rows near-tied, following the reference (margins <= %.2g, 2 x router error %.2g)",
                    s.empty() ? "" : "; ", o.layer, static_cast<long long>(o.near_ties), static_cast<long long>(o.rows),
                    o.largest_tie_margin, 2 * o.router_error);
    else
      std::snprintf(line, sizeof line, "%slayer %d: same choices (router error %.2g)", s.empty() ? "" : "; ", o.layer, o.router_error);
    s += line;
    if (o.failures) {
      std::snprintf(line, sizeof line, ", %lld rows chosen differently beyond it (smallest margin %.2g)",
                    static_cast<long long>(o.failures), o.smallest_failed_margin);
      s += line;
    }
  }
  return s;
}

}  // namespace folio
