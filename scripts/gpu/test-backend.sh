#!/usr/bin/env bash
# On the GPU machine: configure the CUDA-only build (no OpenCV/poppler/... there), build the GPU
# tests and the op micro-benchmark, run the tests, a memcheck pass over the small cases, and the
# benchmark (JSON lines). Logs go to $OUT (or ./gpu-out).
set -o pipefail
out=${OUT:-gpu-out}
mkdir -p "$out"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>&1 | tee "$out/device.txt"
cmake -S . -B build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release -DFOLIO_FULL=OFF -DFOLIO_CUDA=ON \
  -DCMAKE_CUDA_ARCHITECTURES=90a > "$out/configure.log" 2>&1 || { tail -40 "$out/configure.log"; exit 1; }
ninja -C build-gpu -j"$(nproc)" folio_gpu_tests folio_gpu_bench > "$out/build.log" 2>&1 ||
  { grep -E "error|FAILED" "$out/build.log" | head -40; exit 1; }
./build-gpu/tests/folio_gpu_tests > "$out/tests.log" 2>&1
test_rc=$?
grep -E "rel_err|FAILED|PASSED|SKIPPED|Failure|Expected|Which is|actual|error|tests ran" "$out/tests.log" | head -120
if command -v compute-sanitizer > /dev/null; then
  timeout 180 compute-sanitizer --tool memcheck --error-exitcode 3 ./build-gpu/tests/folio_gpu_tests \
    --gtest_filter='*tiny*:*Indexing*:*T5_*:*Router*:*Norm*:*Elementwise*:*M9_*:*decode*' > "$out/memcheck.log" 2>&1
  echo "memcheck exit $? ($(grep -c 'Invalid' "$out/memcheck.log") invalid accesses)"
fi
./build-gpu/tests/folio_gpu_bench 2>&1 | tee "$out/bench.jsonl"
exit $test_rc
