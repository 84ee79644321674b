// Where the shared conformance data lives: $FOLIO_GOLDEN, else ../shared/golden beside the
// checkout. Tests that need it call FOLIO_REQUIRE_GOLDEN(), which skips (with the reason)
// when the folder is absent instead of passing silently.
#pragma once
#include <cstdlib>
#include <filesystem>
#include <string>

#include <gtest/gtest.h>

namespace folio::testing {

inline std::string golden_root() {
  if (const char* env = std::getenv("FOLIO_GOLDEN"); env && *env) return env;
  return std::string(FOLIO_SOURCE_DIR) + "/../shared/golden";
}

inline std::string golden_v1_tiny() { return golden_root() + "/deepseek-ocr-v1-tiny"; }

}  // namespace folio::testing

#define FOLIO_REQUIRE_GOLDEN(dir)                                                          \
  do {                                                                                     \
    if (!std::filesystem::exists(dir))                                                     \
      GTEST_SKIP() << "conformance data not found at " << (dir)                            \
                   << " (set FOLIO_GOLDEN to the shared/golden folder)";                   \
  } while (0)
