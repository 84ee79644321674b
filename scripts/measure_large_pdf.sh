#!/usr/bin/env bash
# Pushes a 300-page and a 3,000-page PDF (tiny pages, 72 dpi) through `folio serve`'s job runner
# and prints the peak resident memory (VmHWM) of the server for each, to show the bound does not
# grow with the page count. Needs a built tree: cmake -S . -B build -G Ninja && ninja -C build.
# Usage: scripts/measure_large_pdf.sh [BUILD_DIR] [SMALL,LARGE]   (about 3-4 minutes on 2 cores)
set -euo pipefail
build="${1:-build}"
pages="${2:-300,3000}"
ninja -C "$build" folio folio_serve_tests >/dev/null
FOLIO_LARGE_PDF_PAGES="$pages" "$build/tests/folio_serve_tests" --gtest_filter='LargePdf.*' | grep -E '\[ memory|OK|FAILED|Failure|peak'
