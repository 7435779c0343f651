#!/usr/bin/env python3
"""stale_series: adds the per-PoP time series report.html's heatmap draws to a results.json
that lacks them, computed from the run's own CSV files (docs/experiments.md, "The
measurements"): a read is stale when ok and its seq is older than the newest write of its key
committed strictly before the read was sent.

    stale_series.py OUT_DIR BINS > results-with-series.json

Per run: series_bin_s (simulated s); per PoP: stale_series and read_series (answered reads)
per bin since the run's first read. Runs that already carry stale_series are left alone, so
the test keeps working once `edgekv run` writes them itself."""
import bisect
import csv
import json
import os
import sys


def series(out, policy, pops, scale, bins, duration_s):
    commits = {}
    with open(os.path.join(out, policy + "-writes.csv")) as f:
        for w in csv.DictReader(f):
            commits.setdefault(w["key"], []).append((int(w["commit_us"]), int(w["seq"])))
    for c in commits.values():
        c.sort()
    with open(os.path.join(out, policy + "-reads.csv")) as f:
        reads = [r for r in csv.DictReader(f) if r["ok"] == "1"]
    t0 = min((int(r["start_us"]) for r in reads), default=0)
    bin_s = duration_s / bins
    stale = {p: [0] * bins for p in pops}
    total = {p: [0] * bins for p in pops}
    for r in reads:
        start = int(r["start_us"])
        b = min(int((start - t0) / 1e6 * scale / bin_s), bins - 1)
        c = commits.get(r["key"], [])
        i = bisect.bisect_left(c, (start, -1))  # commits strictly before the read was sent
        newest = max((seq for _, seq in c[:i]), default=None)
        if r["pop"] not in total:
            continue
        total[r["pop"]][b] += 1
        if newest is not None and int(r["seq"]) < newest:
            stale[r["pop"]][b] += 1
    return bin_s, stale, total


def main():
    out, bins = sys.argv[1], int(sys.argv[2])
    res = json.load(open(os.path.join(out, "results.json")))
    scale = res.get("time_scale") or 1
    for run in res["runs"]:
        pops = [p["name"] for p in run["pops"]]
        if any("stale_series" in p for p in run["pops"]):
            continue
        bin_s, stale, total = series(out, run["policy"], pops, scale, bins, res["duration_s"])
        run["series_bin_s"] = bin_s
        for p in run["pops"]:
            p["stale_series"] = stale[p["name"]]
            p["read_series"] = total[p["name"]]
    json.dump(res, sys.stdout)


if __name__ == "__main__":
    main()
