#!/bin/bash
# Alternating encoder benchmark of two folio binaries on the CPU, for comparisons on a shared
# host whose speed drifts from minute to minute: runs A and B in turn, PAIRS times, one second
# apart, and prints per run the Base page's p50 wall time, p50 CPU time and best page (ms),
# then the medians. The README's int8 encoder figures come from this.
#   scripts/cpu_encoder_ab.sh BIN_A BIN_B MODEL_DIR [PAIRS=7] [extra bench flags...]
set -euo pipefail
if [ $# -lt 3 ]; then
  echo "usage: $0 BIN_A BIN_B MODEL_DIR [PAIRS] [extra folio bench flags]" >&2
  exit 2
fi
a=$1 b=$2 model=$3 pairs=${4:-7}
shift $(( $# < 4 ? $# : 4 ))
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
for i in $(seq "$pairs"); do
  for side in A B; do
    bin=$a; [ "$side" = B ] && bin=$b
    sleep 1
    "$bin" bench --device cpu --model "$model" --mode base --pages 3 --encoder-weights int8 --stages encoder "$@" \
      2>/dev/null >"$out/run.json"
    python3 - "$out/run.json" "$side" >>"$out/$side.txt" <<'PY'
import json, sys
enc = json.load(open(sys.argv[1]))["encoder"][0]
print(round(enc["ms"]["p50"]), round(enc["cpu_ms"]["p50"]), round(enc["ms"]["min"]))
PY
    echo "$side $(tail -1 "$out/$side.txt")"
  done
done
python3 - "$out" <<'PY'
import statistics, sys
rows = {s: [list(map(int, l.split())) for l in open(f"{sys.argv[1]}/{s}.txt")] for s in "AB"}
for s, r in rows.items():
    print(f"{s}: median p50 wall {statistics.median(x[0] for x in r)} ms, median CPU {statistics.median(x[1] for x in r)} ms, "
          f"best page {min(x[2] for x in r)} ms, p50 range {min(x[0] for x in r)}-{max(x[0] for x in r)} ms")
print("B faster in", sum(b[0] < a[0] for a, b in zip(rows["A"], rows["B"])), "of", len(rows["A"]), "pairs")
PY
