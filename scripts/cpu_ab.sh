#!/bin/bash
# Alternating CPU benchmark of two folio binaries, for comparisons on a shared host whose speed
# drifts from minute to minute: runs A and B in turn, PAIRS times, one second apart, then
# prints the medians. The README's int8 encoder and decode figures come from this.
#   scripts/cpu_ab.sh encoder|decode BIN_A BIN_B MODEL_DIR [PAIRS=7] [extra bench flags...]
# encoder: a Base page's p50 wall time, p50 CPU time and best page (ms) per run, 3 pages a run
#          (--encoder-weights int8 --stages encoder).
# decode:  tokens/s of one Base page's 128 decoded tokens per run, int8 weights for the
#          decoder (--weights int8) and the encoder (only to reach the decode sooner).
set -euo pipefail
if [ $# -lt 4 ] || { [ "$1" != encoder ] && [ "$1" != decode ]; }; then
  echo "usage: $0 encoder|decode BIN_A BIN_B MODEL_DIR [PAIRS] [extra folio bench flags]" >&2
  exit 2
fi
stage=$1 a=$2 b=$3 model=$4 pairs=${5:-7}
shift $(( $# < 5 ? $# : 5 ))
if [ "$stage" = encoder ]; then
  flags=(--mode base --pages 3 --encoder-weights int8 --stages encoder)
else
  flags=(--mode base --pages 1 --max-tokens 128 --weights int8 --encoder-weights int8 --stages decode)
fi
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$pairs"); do
  for side in A B; do
    bin=$a; [ "$side" = B ] && bin=$b
    sleep 1
    "$bin" bench --device cpu --model "$model" "${flags[@]}" "$@" 2>/dev/null >"$out/run.json"
    python3 - "$out/run.json" "$stage" >>"$out/$side.txt" <<'PY'
import json, sys
run = json.load(open(sys.argv[1]))
if sys.argv[2] == "encoder":
    enc = run["encoder"][0]
    print(round(enc["ms"]["p50"]), round(enc["cpu_ms"]["p50"]), round(enc["ms"]["min"]))
else:
    print(round(run["decode"]["tokens_per_s"]["p50"], 2))
PY
    echo "$side $(tail -1 "$out/$side.txt")"
  done
done
python3 - "$out" "$stage" <<'PY'
import statistics, sys
rows = {s: [list(map(float, l.split())) for l in open(f"{sys.argv[1]}/{s}.txt")] for s in "AB"}
if sys.argv[2] == "encoder":
    for s, r in rows.items():
        print(f"{s}: median p50 wall {statistics.median(x[0] for x in r):.0f} ms, median CPU {statistics.median(x[1] for x in r):.0f} ms, "
              f"best page {min(x[2] for x in r):.0f} ms, p50 range {min(x[0] for x in r):.0f}-{max(x[0] for x in r):.0f} ms")
    print("B faster in", sum(b[0] < a[0] for a, b in zip(rows["A"], rows["B"])), "of", len(rows["A"]), "pairs")
else:
    for s, r in rows.items():
        print(f"{s}: median {statistics.median(x[0] for x in r):.2f} tokens/s, range {min(x[0] for x in r):.2f}-{max(x[0] for x in r):.2f}")
    print("B faster in", sum(b[0] > a[0] for a, b in zip(rows["A"], rows["B"])), "of", len(rows["A"]), "pairs")
PY
