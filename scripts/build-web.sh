#!/usr/bin/env bash
# Builds the web page into web/dist (served by `folio serve`). Needs node >= 20.19 and npm.
# Skips `npm ci` when web/node_modules matches package-lock.json, and the build when web/dist is
# newer than every source; FORCE=1 does both anyway.
set -euo pipefail
cd "$(dirname "$0")/../web"

newer_than() { # newer_than FILE PATH...: true when FILE exists and no PATH has a newer file
  [[ -e "$1" ]] || return 1
  local file=$1; shift
  [[ -z "$(find "$@" -newer "$file" -print -quit)" ]]
}

if [[ "${FORCE:-0}" == 1 ]] || ! newer_than node_modules/.package-lock.json package-lock.json package.json; then
  npm ci --no-audit --no-fund
fi
if [[ "${FORCE:-0}" == 1 ]] || ! newer_than dist/index.html src index.html package.json package-lock.json vite.config.ts tsconfig.json; then
  npm run build
else
  echo "web/dist is up to date"
fi
