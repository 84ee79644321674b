// The whole conformance folder through the CPU engine: every stage of every case within the
// README's fp32 tolerance, all greedy tokens, the tile-grid and n-gram rules.
#include <cstdio>

#include <gtest/gtest.h>

#include "cli/conformance_runner.h"
#include "support/golden.h"

using namespace folio;

TEST(Conformance, CpuMatchesTheOfficialReference) {
  const std::string dir = folio::testing::golden_v1_tiny();
  FOLIO_REQUIRE_GOLDEN(dir);
  ConformanceOptions o;
  o.golden_dir = dir;
  o.device = "cpu";
  const ConformanceReport r = run_conformance(o);
  std::printf("%s", r.table().c_str());
  int failed = 0, greedy = 0;
  for (const auto& row : r.rows) {
    failed += !row.pass;
    greedy += row.stage.rfind("greedy", 0) == 0;
    EXPECT_TRUE(row.pass) << row.case_name << " " << row.stage << " rel " << row.rel_error << " " << row.detail;
  }
  EXPECT_EQ(failed, 0);
  EXPECT_GE(greedy, 2 * 11) << "both greedy runs of every case were compared";
  EXPECT_TRUE(r.all_pass());
}
