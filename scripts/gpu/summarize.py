#!/usr/bin/env python3
"""One line per `folio bench --stages batch` / baseline JSON in a folder (batch-bench.sh's logs).

usage: summarize.py DIR   (prints name, tok/s, pages/s, TPOT p50, TTFT p50, encoder p50, peak pool)
"""
import glob
import json
import os
import sys


def main() -> int:
    for path in sorted(glob.glob(os.path.join(sys.argv[1], "*.json"))):
        name = os.path.basename(path)[:-5]
        try:
            d = json.load(open(path))
        except (OSError, ValueError):
            continue
        b = d.get("batch")
        if b:
            mem = d.get("device_memory", {}).get("pool_used_peak_bytes", 0) / 1e9
            print(f"{name:16s} tok/s {b['output_tokens_per_s']:9.0f}  pages/s {b['pages_per_s']:6.2f}  "
                  f"tpot p50 {b['tpot_ms']['p50']:7.3f}  ttft p50 {b['ttft_ms']['p50']:7.1f}  "
                  f"enc p50 {b.get('encoder_ms', {}).get('p50', 0):6.1f}  failed {b['failed_pages']}  "
                  f"preempt {b['engine']['preemptions']}  pool peak {mem:.2f} GB")
        elif "output_tokens_per_s" in d or "decode_tokens_per_s" in d:
            keys = {k: v for k, v in d.items() if isinstance(v, (int, float))}
            print(f"{name:16s} " + " ".join(f"{k}={v:.4g}" for k, v in keys.items())[:300])
    return 0


if __name__ == "__main__":
    sys.exit(main())
