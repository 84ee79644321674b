#!/usr/bin/env bash
# On the GPU machine, from an unpacked source tree (cwd) and a conformance folder:
#   e2e-run.sh GOLDEN_DIR [STEPS]
# builds the lite CUDA binary (FOLIO_FULL=OFF: the machine has no OpenCV/poppler/PCRE2/...),
# runs the GPU tests, conformance on cuda and cpu, a full-size random model, compare and bench.
# STEPS (default "build tests conformance random bench compare") picks a subset, so a second
# call on a warm machine can redo only what failed. Each step has its own time limit and a
# failing step does not stop the later ones. Every log goes to $OUT/logs.tar.gz (the device
# returns at most 8 files), the main ones also to $OUT directly.
set -o pipefail
golden_src=${1:?usage: e2e-run.sh GOLDEN_DIR [STEPS]}
steps=${2:-build tests conformance random bench compare}
final=${OUT:-e2e-out}
out=/tmp/e2e-logs
build=${BUILD_DIR:-/tmp/folio-build}
model=${MODEL_DIR:-/tmp/full}
golden=/tmp/golden-views
mkdir -p "$out" "$final"
finish() {
  tar -czf "$final/logs.tar.gz" -C "$out" . 2>/dev/null
  for f in steps.txt gpu_tests.log conformance_cuda.log conformance_cpu.log compare.log bench_base.json bench_gundam.json; do
    [ -f "$out/$f" ] && cp "$out/$f" "$final/"
  done
}
trap finish EXIT
has() { [[ " $steps " == *" $1 "* ]]; }
step() {  # step NAME LIMIT_S CMD...: runs CMD with a limit, output to $out/NAME.log
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2>&1
  local rc=$?
  echo "step $name: rc=$rc, $((SECONDS - t0)) s" | tee -a "$out/steps.txt"
  return $rc
}

nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader > "$out/device.txt" 2>&1
python3 -c "import ctypes.util; print('openblas:', ctypes.util.find_library('openblas'))" >> "$out/device.txt" 2>&1
nproc >> "$out/device.txt"

if has build; then
  step configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_FULL=OFF -DFOLIO_CUDA=ON \
    -DCMAKE_CUDA_ARCHITECTURES=90a || { tail -30 "$out/configure.log"; exit 1; }
  step build 400 ninja -C "$build" -j16 folio folio_gpu_tests || { grep -E "error|FAILED" "$out/build.log" | head -30; exit 1; }
fi
folio="$build/folio"
if has tests; then
  step gpu_tests 180 "$build/tests/folio_gpu_tests"
  grep -E "PASSED|FAILED|SKIPPED|tests ran" "$out/gpu_tests.log" | head -20
fi
if has conformance; then
  step golden_views 120 python3 tools/golden_views_to_safetensors.py "$golden_src" "$golden"
  step conformance_cuda 180 "$folio" conformance --device cuda --golden "$golden"
  tail -1 "$out/conformance_cuda.log"
  step conformance_cpu 180 "$folio" conformance --device cpu --golden "$golden"
  tail -1 "$out/conformance_cpu.log"
fi
if has random; then
  [ -f "$model/config.json" ] || step model_random 240 "$folio" model random --out "$model"
  du -sh "$model" | tee -a "$out/steps.txt"
fi
if has bench; then
  step bench_base 200 "$folio" bench --device cuda --model "$model" --mode base --pages 5 --max-tokens 200
  cp "$out/bench_base.log" "$out/bench_base.json"
  step bench_gundam 200 "$folio" bench --device cuda --model "$model" --mode gundam --pages 5 --max-tokens 200
  cp "$out/bench_gundam.log" "$out/bench_gundam.json"
fi
if has compare; then
  step compare 300 "$folio" compare --model "$model" --devices cpu,cuda --mode base
  cat "$out/compare.log"
fi
cat "$out/steps.txt"
