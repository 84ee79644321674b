#include <CLI/CLI.hpp>
#include <cstdio>

#include "cli/command.h"
#include "cli/conformance_runner.h"

namespace folio {

void add_conformance_command(CLI::App& app, CommandAction& action) {
  auto* cmd = app.add_subcommand("conformance", "Check every stage against a conformance folder of the official code's outputs");
  auto opt = std::make_shared<ConformanceOptions>();
  cmd->add_option("--golden", opt->golden_dir, "Conformance folder (index.json, model/, cases/)")->required();
  cmd->add_option("--device", opt->device, "cpu or cuda")->capture_default_str();
  cmd->add_option("--max-rel-error", opt->max_rel_error, "Tolerance on max|a-b|/rms(b) (default 1e-3 cpu, 3e-2 cuda)");
  cmd->add_option("--min-cosine", opt->min_cosine, "Minimum cosine similarity per stage")->capture_default_str();
  cmd->add_option("--encoder-weights", opt->encoder_weights,
                  "bf16 (as stored) or int8: measure the int8 vision encoder's error per stage")
      ->check(CLI::IsMember({"bf16", "int8"}))
      ->capture_default_str();
  cmd->callback([opt, &action] {
    action = [opt] {
      const ConformanceReport report = run_conformance(*opt);
      std::fputs(report.table().c_str(), stdout);
      int failed = 0;
      for (const auto& r : report.rows) failed += !r.pass;
      std::printf("%zu checks, %d failed\n", report.rows.size(), failed);
      return report.all_pass() ? 0 : 1;
    };
  });
}

}  // namespace folio
