#!/usr/bin/env bash
# Pushes PDFs of 300, 1,000, 3,000 and 5,000 tiny pages (72 dpi) through `folio serve`'s job runner
# (POST /v1/jobs, the default Tesseract engine) and prints the peak resident memory (VmHWM) of the
# server for each, to show the bound does not grow with the page count; then the heap in use of an
# in-process server between pages 1,001 and 2,793 of a 3,000-page job (JobMemory).
# Needs a built tree: cmake -S . -B build -G Ninja && ninja -C build.
# Usage: scripts/measure_large_pdf.sh [BUILD_DIR] ["SMALL,LARGE ..."]   (about 1 minute on 2 cores)
set -euo pipefail
build="${1:-build}"
pairs="${2:-300,3000 1000,5000}"
ninja -C "$build" folio folio_serve_tests >/dev/null
for pair in $pairs; do
  FOLIO_LARGE_PDF_PAGES="$pair" "$build/tests/folio_serve_tests" --gtest_filter='LargePdf.*' |
    grep -E '\[ memory|FAILED|Failure|peak'
done
"$build/tests/folio_serve_tests" --gtest_filter='JobMemory.*' | grep -E '\[ memory|FAILED|Failure'
