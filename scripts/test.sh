#!/usr/bin/env bash
# Installs, builds and runs every test (labels unit, conformance, server, e2e, fuzz; gpu
# tests skip where there is no GPU). Conformance data: $FOLIO_GOLDEN or ../shared/golden.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
ctest --test-dir build --output-on-failure -j "$(nproc)" --timeout 900
