#!/usr/bin/env bash
# Everything a fresh Debian machine needs: the packages, the web page, the binary.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh "$@"
echo "setup: built build/folio"
