#!/usr/bin/env python3
"""Sums kernel durations from `ncu --csv --metrics gpu__time_duration.sum ...` output, by kernel.

usage: ncu_kernel_sum.py NCU_CSV [TOP] [--last-step MARKER]
Prints the total GPU time of the profiled launches and the kernels that took most of it, so it can
be set against the wall time of the same work (the difference is host time and launch gaps).
--last-step MARKER also lists, in launch order, the launches after the second-to-last launch whose
name contains MARKER up to the last one (one decode step when MARKER is the step's final kernel).
"""
import csv
import sys
from collections import defaultdict


def main() -> int:
    args = sys.argv[1:]
    marker = None
    if "--last-step" in args:
        i = args.index("--last-step")
        marker = args[i + 1]
        del args[i:i + 2]
    lines = open(args[0], errors="replace").read().splitlines()
    top = int(args[1]) if len(args) > 1 else 20
    start = next((i for i, l in enumerate(lines) if l.startswith('"ID"')), None)
    if start is None:
        print("no ncu table found")
        return 1
    total, count = defaultdict(float), defaultdict(int)
    launches = []  # (name, us) in launch order
    unit_scale = {"ns": 1e-3, "nsecond": 1e-3, "us": 1.0, "usecond": 1.0, "ms": 1e3, "msecond": 1e3, "s": 1e6, "second": 1e6}
    for r in csv.DictReader(lines[start:]):
        if r.get("Metric Name") != "gpu__time_duration.sum":
            continue
        name = r["Kernel Name"].split("(")[0].replace("void ", "")[:80]
        value = float(r["Metric Value"].replace(",", ""))
        us = value * unit_scale.get(r["Metric Unit"], 1.0)
        total[name] += us
        count[name] += 1
        launches.append((name, us))
    all_us = sum(total.values())
    print(f"{sum(count.values())} launches, {all_us / 1e3:.2f} ms of kernel time")
    for name, us in sorted(total.items(), key=lambda kv: -kv[1])[:top]:
        print(f"{100 * us / all_us:5.1f}% {us / 1e3:8.3f} ms {count[name]:6d}x  {name}")
    if marker:
        ends = [i for i, (name, _) in enumerate(launches) if marker in name]
        if len(ends) < 2:
            print(f"fewer than two launches named *{marker}*")
            return 1
        step = launches[ends[-2] + 1:ends[-1] + 1]
        print(f"last step: {len(step)} launches, {sum(us for _, us in step):.1f} us of kernel time")
        by_name = defaultdict(lambda: [0, 0.0])
        for name, us in step:
            by_name[name][0] += 1
            by_name[name][1] += us
        for name, (n, us) in sorted(by_name.items(), key=lambda kv: -kv[1][1]):
            print(f"  {us:8.1f} us {n:4d}x {us / n:7.2f} us each  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
