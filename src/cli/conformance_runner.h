// Checks an implementation against a conformance folder laid out like
// shared/golden/deepseek-ocr-v1-tiny (index.json, rules.json, model/, images/, cases/):
// preprocessing (views, tile grid, placeholder counts), every encoder and decoder stage,
// prefill logits, greedy decoding with and without the n-gram ban, and the rule tables.
// Any width, depth, page size or mode the folder holds is taken from its files. On a bf16
// device the prefill stages are also run with near-tied expert choices following an fp32 CPU
// reference, under the rule of routing_check.h, and a `routing` check per case reports them.
#pragma once
#include <string>
#include <vector>

namespace folio {

struct ConformanceOptions {
  std::string golden_dir;
  std::string device = "cpu";
  double max_rel_error = -1;  // <0: 1e-3 on cpu (fp32), 3e-2 on cuda (bf16)
  double min_cosine = 0.999;
  // "int8": the vision encoder with int8 weights (WeightOptions::int8_encoder), to measure its
  // accuracy cost stage by stage; expect it outside the fp32 tolerance.
  std::string encoder_weights = "bf16";
  bool verbose = false;
};

struct ConformanceRow {
  std::string case_name, stage, detail;
  double rel_error = 0, cosine = 1;
  bool pass = true;
};

struct ConformanceReport {
  std::vector<ConformanceRow> rows;
  bool all_pass() const;
  std::string table() const;  // one line per row, aligned
};

ConformanceReport run_conformance(const ConformanceOptions& options);

}  // namespace folio
