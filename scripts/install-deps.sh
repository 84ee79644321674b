#!/usr/bin/env bash
# Installs the Debian packages folio builds and runs with. Idempotent: apt skips what is present.
# Why each one is there: see "Dependencies" in README.md.
set -euo pipefail
pkgs=(
  build-essential cmake ninja-build pkg-config git
  nlohmann-json3-dev libcli11-dev libspdlog-dev libfmt-dev libgtest-dev libbenchmark-dev
  libopenblas-dev libpcre2-dev
  libopencv-core-dev libopencv-imgproc-dev libopencv-imgcodecs-dev
  libpoppler-cpp-dev zlib1g-dev libtiff-dev libcpp-httplib-dev libssl-dev libsqlite3-dev libcurl4-openssl-dev
  libtesseract-dev libleptonica-dev tesseract-ocr-eng tesseract-ocr-chi-sim
  clang libclang-rt-14-dev
  chromium fonts-dejavu-core poppler-utils
)
# Node.js ships on the project's machines (its own npm); Debian's npm conflicts with it, so add it only when absent.
command -v npm >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then echo "install-deps: all packages present"; exit 0; fi
SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
