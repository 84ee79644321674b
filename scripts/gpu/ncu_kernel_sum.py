#!/usr/bin/env python3
"""Sums kernel durations from `ncu --csv --metrics gpu__time_duration.sum ...` output, by kernel.

usage: ncu_kernel_sum.py NCU_CSV [TOP]
Prints the total GPU time of the profiled launches and the kernels that took most of it, so it can
be set against the wall time of the same work (the difference is host time and launch gaps).
"""
import csv
import sys
from collections import defaultdict


def main() -> int:
    lines = open(sys.argv[1], errors="replace").read().splitlines()
    top = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        print("no ncu table found")
        return 1
    total, count = defaultdict(float), defaultdict(int)
    unit_scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3, "s": 1e6, "second": 1e6}
    for r in csv.DictReader(lines[start:]):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        name = r["Kernel Name"].split("(")[0].replace("void ", "")[:80]
        value = float(r["Metric Value"].replace(",", ""))
        total[name] += value * unit_scale.get(r["Metric Unit"], 1.0)
        count[name] += 1
    all_us = sum(total.values())
    print(f"{sum(count.values())} launches, {all_us / 1e3:.2f} ms of kernel time")
    for name, us in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{100 * us / all_us:5.1f}% {us / 1e3:8.3f} ms {count[name]:6d}x  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
