#!/usr/bin/env bash
# Builds the web page and the `folio` binary (build/folio). Extra arguments go to CMake.
# The CUDA backend is compiled too when nvcc is present (it needs no GPU to compile).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/build-web.sh
cuda=()
if command -v nvcc >/dev/null 2>&1 || [ -x /usr/local/cuda/bin/nvcc ]; then
  cuda=(-DFOLIO_CUDA=ON -DCMAKE_CUDA_COMPILER="$(command -v nvcc || echo /usr/local/cuda/bin/nvcc)")
fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release "${cuda[@]}" "$@"
cmake --build build -j "$(nproc)"
