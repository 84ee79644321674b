#!/usr/bin/env bash
# On the GPU machine, from the repository root (the device tool's working copy):
#   scripts/gpu/batch-bench.sh [STEPS]
# builds the lite CUDA binary into build-gpu/ (kept between calls on a warm machine), runs the
# GPU tests, writes a full-size random checkpoint to /tmp/full and measures the batching engine
# (folio bench --concurrency C) next to the PyTorch eager baseline (scripts/gpu/baseline_torch.py).
# STEPS picks a subset of: build tests ops conformance model compare single ab vs_old profile encoder_batch
# profile_encoder attn_ab vision_ab curve
# gundam memory budget baseline (ops = the op micro-benchmark, JSON lines in ops.log). conformance
# (folio on CUDA, then the same data through PyTorch in fp32 and bf16) reads the shared data, copied beforehand into the ignored .gl/
# (GOLDEN=dir to override; the device tool carries it with carry [".gl"]). CURVE_C="C ..." sets the
# Base curve's concurrencies; NO_TORCH=1 skips the PyTorch part of conformance.
# Every JSON result goes to $OUT (or ./batch-out) as NAME.json; logs to $OUT/logs.tar.gz.
set -o pipefail
steps=${1:-build tests conformance model compare single curve gundam memory budget baseline}
final=${OUT:-batch-out}
out=/tmp/batch-logs
build=build-gpu
model=${MODEL_DIR:-/tmp/full}
tokens=${TOKENS:-1000}
mkdir -p "$out" "$final"
finish() { tar -czf "$final/logs.tar.gz" -C "$out" . 2>/dev/null; cp "$out"/*.json "$out/steps.txt" "$final/" 2>/dev/null; }
trap finish EXIT
has() { [[ " $steps " == *" $1 "* ]]; }
step() {  # step NAME LIMIT_S CMD...: output to $out/NAME.log (NAME.json when it is JSON)
  local name=$1 limit=$2; shift 2
  local t0=$SECONDS
  timeout "$limit" "$@" > "$out/$name.log" 2> "$out/$name.err"
  local rc=$?
  echo "step $name: rc=$rc, $((SECONDS - t0)) s" | tee -a "$out/steps.txt"
  python3 -c "import json,sys; json.load(open('$out/$name.log'))" 2>/dev/null && cp "$out/$name.log" "$out/$name.json"
  [ $rc -ne 0 ] && tail -5 "$out/$name.err"
  return $rc
}
folio="$build/folio"
bench=("$folio" bench --device cuda --model "$model" --stages batch)

if has build; then
  [ -f "$build/build.ninja" ] || step configure 120 cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DFOLIO_FULL=OFF -DFOLIO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a || exit 1
  step build 400 ninja -C "$build" -j16 folio tests/folio_gpu_tests tests/folio_gpu_bench || { grep -E "error" "$out/build.log" | head -20; exit 1; }
fi
if has tests; then
  step gpu_tests 240 "$build/tests/folio_gpu_tests"
  grep -E "^\[  (PASSED|FAILED) |FAILED  \]|tests ran" "$out/gpu_tests.log" | head -20
fi
if has ops; then
  step ops 300 "$build/tests/folio_gpu_bench"
  grep -E "paged_attention|moe_experts_dev|\"M\": (1|256)," "$out/ops.log"
fi
if has conformance; then
  # The lite build has no image decoders: the golden views go in as safetensors first.
  golden=/tmp/golden-views
  step golden_views 120 python3 tools/golden_views_to_safetensors.py "${GOLDEN:-.gl/deepseek-ocr-v1-tiny}" "$golden"
  step conformance_cuda 180 "$folio" conformance --device cuda --golden "$golden"
  grep -E "FAIL|checks" "$out/conformance_cuda.log" | tail -25
  # The same data through PyTorch in bf16 (and fp32, which must reproduce it): what a plain
  # bf16 run of the reference scores against the README's 3e-2.
  if [ -z "${NO_TORCH:-}" ]; then
    step bf16_reference 300 python3 scripts/gpu/bf16_reference_error.py "${GOLDEN:-.gl/deepseek-ocr-v1-tiny}"
    sed -n '/^stage /,$p' "$out/bf16_reference.log"
  fi
fi
if has model; then
  [ -f "$model/config.json" ] || step model_random 240 "$folio" model random --out "$model"
fi
# CPU and CUDA on the same full-size page, stage by stage.
if has compare; then
  step compare 300 "$folio" compare --model "$model" --devices cpu,cuda --mode base
  tail -20 "$out/compare.log"
fi
# Single stream, Base: time to first token and time per output token.
has single && step single 200 "${bench[@]}" --mode base --pages 4 --concurrency 1 --max-tokens "$tokens"
# The fused decode-step ops against their compositions (FOLIO_CUDA_FUSED=0), single stream.
if has ab; then
  FOLIO_CUDA_FUSED=0 step single_unfused 200 "${bench[@]}" --mode base --pages 2 --concurrency 1 --max-tokens 300
  step single_fused 200 "${bench[@]}" --mode base --pages 2 --concurrency 1 --max-tokens 300
  for f in single_unfused single_fused; do
    python3 -c "import json;d=json.load(open('$out/$f.log'));print('$f', {k:v for k,v in d.items() if 'tpot' in k or 'ttft' in k or 'tokens_per' in k})" 2>&1 | cut -c1-400
  done
fi
# The single-stream run of an older tree (OLD_TAR: a `git archive REV` tarball) and of this one,
# alternately on the same machine, for before/after figures.
if has vs_old; then
  rm -rf /tmp/old-src && mkdir -p /tmp/old-src && tar xf "${OLD_TAR:-.gl/old.tar}" -C /tmp/old-src
  step old_configure 120 cmake -S /tmp/old-src -B /tmp/old-src/build-gpu -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DFOLIO_FULL=OFF -DFOLIO_CUDA=ON -DCMAKE_CUDA_ARCHITECTURES=90a
  step old_build 400 ninja -C /tmp/old-src/build-gpu -j16 folio
  old_bench=(/tmp/old-src/build-gpu/folio bench --device cuda --model "$model" --stages batch)
  for i in 1 2; do
    step "old_single_$i" 200 "${old_bench[@]}" --mode base --pages 4 --concurrency 1 --max-tokens "$tokens"
    step "new_single_$i" 200 "${bench[@]}" --mode base --pages 4 --concurrency 1 --max-tokens "$tokens"
  done
  for f in old_single_1 new_single_1 old_single_2 new_single_2; do
    python3 -c "import json;d=json.load(open('$out/$f.log'))['batch'];print('$f', 'tpot', round(d['tpot_ms']['mean'],4), 'ttft p50', round(d['ttft_ms']['p50'],2), 'encoder p50', round(d['encoder_ms']['p50'],2))"
  done
  # The encoder alone (no decoding between pages), 8 pages each.
  for i in 1 2; do
    step "old_encoder_$i" 200 /tmp/old-src/build-gpu/folio bench --device cuda --model "$model" --stages encoder --mode base --pages 8
    step "new_encoder_$i" 200 "$folio" bench --device cuda --model "$model" --stages encoder --mode base --pages 8
  done
  grep -h -o '"encoder[^}]*}' "$out"/old_encoder_*.log "$out"/new_encoder_*.log | cut -c1-200
fi
# SAM attention: the row-tiled kernel against the generic one (FOLIO_CUDA_SAM_ATTN=0), op level
# and in the batched encoder.
if has attn_ab; then
  FOLIO_CUDA_SAM_ATTN=0 step attn_generic 200 "$build/tests/folio_gpu_bench" attention
  step attn_row_tiled 200 "$build/tests/folio_gpu_bench" attention
  for f in attn_generic attn_row_tiled; do grep sam_ "$out/$f.log" | sed "s/^/$f /" | cut -c1-200; done
  for v in 0 1; do
    FOLIO_CUDA_SAM_ATTN=$v step "encoder_sam$v" 200 "${bench[@]}" --mode base --pages 32 --concurrency 32 --max-tokens 2
    python3 -c "import json;e=json.load(open('$out/encoder_sam$v.log'))['batch']['engine'];print('FOLIO_CUDA_SAM_ATTN=$v 32 pages: encoder', round(e['encoder_ms_total'],1), 'ms, groups', e['admit_groups'])"
  done
fi
# Kernel times of one single-stream decode step (ncu; the step's launches end with advance_kernel).
if has profile; then
  step profile 400 ncu --csv --metrics gpu__time_duration.sum --graph-profiling node --cache-control none --clock-control none "${bench[@]}" --mode base \
    --pages 1 --concurrency 1 --max-tokens 4
  python3 scripts/gpu/ncu_kernel_sum.py "$out/profile.log" 25 --last-step advance_kernel
fi
# The batched encoder: 48 Base pages admitted in groups of 16 (wall figures from the engine's stats),
# then the kernels of the same work under ncu, summed by name (warm-up page and prefill included).
if has encoder_batch; then
  step encoder_batch 200 "${bench[@]}" --mode base --pages 48 --concurrency 48 --max-tokens 2
  python3 -c "import json;e=json.load(open('$out/encoder_batch.log'))['batch']['engine'];print('48 pages: encoder', round(e['encoder_ms_total'],1), 'ms, prefill', round(e['prefill_ms_total'],1), 'ms, groups', e['admit_groups'])"
fi
if has profile_encoder; then
  step profile_encoder 400 ncu --csv --metrics gpu__time_duration.sum --cache-control none --clock-control none \
    "${bench[@]}" --mode base --pages 48 --concurrency 48 --max-tokens 2
  python3 scripts/gpu/ncu_kernel_sum.py "$out/profile_encoder.log" 30
fi
# The vision encoder in f16 (the default) against bf16 (FOLIO_CUDA_VISION=bf16): conformance
# (after the conformance step, which writes the golden views) and batched encoder speed.
if has vision_ab; then
  FOLIO_CUDA_VISION=bf16 step conformance_vision_bf16 180 "$folio" conformance --device cuda --golden /tmp/golden-views
  grep -E "FAIL|checks" "$out/conformance_vision_bf16.log" | tail -25
  for i in 1 2; do
    for v in bf16 f16; do
      FOLIO_CUDA_VISION=$v step "encoder_batch_${v}_$i" 200 "${bench[@]}" --mode base --pages 48 --concurrency 48 --max-tokens 2
    done
  done
fi
if has curve; then
  for c in ${CURVE_C:-8 32 128 256 512}; do step "base_c$c" 300 "${bench[@]}" --mode base --pages "$c" --concurrency "$c" --max-tokens "$tokens"; done
fi
if has gundam; then
  for c in 1 8 32 128 256; do
    step "gundam_c$c" 300 "${bench[@]}" --mode gundam --pages "$c" --concurrency "$c" --max-tokens "$tokens"
  done
fi
# Peak device memory with 8 concurrent Base pages (pool peak covers weights + KV + activations).
has memory && step memory_c8 200 "${bench[@]}" --mode base --pages 16 --concurrency 8 --max-tokens "$tokens"
# 1,000 requests at once under a 16 GB budget: all must complete (failed_pages 0).
has budget && step budget_1000 500 "${bench[@]}" --mode base --pages 1000 --concurrency 256 --max-tokens "$tokens" --gpu-memory 16GB
if has baseline; then
  for c in 1 8 32; do
    step "torch_c$c" 300 python3 scripts/gpu/baseline_torch.py --mode base --pages 2 --concurrency "$c" \
      --max-tokens "${BASELINE_TOKENS:-200}" --ignore-eos --json
  done
fi
cat "$out/steps.txt"
