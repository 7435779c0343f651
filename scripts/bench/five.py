#!/usr/bin/env python3
"""The five-way table of scripts/bench/fanout and scripts/bench/redis (issue 31): edgekv with
its PUB over TCP and over epgm, the bare-libzmq floor over each, and Redis, measured in the same
rounds. Python 3 standard library only; percentiles as driver.py takes them (nearest rank on
the pooled samples, index floor((n - 1) q)).

  five.py row N T0 EKV_TCP EKV_EPGM FLOOR_TCP FLOOR_EPGM REDIS [REDIS_NOTE]
      one N as a JSON line. Each argument after T0 is a samples file, or - when that system was
      not measured (a transport left out, Redis not run: REDIS_NOTE says why). edgekv files
      are fanout_load's (commit_to_last send_to_last ...), the floor's one column (send to the
      last SUB), Redis's redis_bench's (send_to_last ...). T0 (commit or send) is the edgekv
      column shown: commit (scripts/bench/fanout, beside the floor, whose t0 is the send on
      the PUB) or send (scripts/bench/redis). Ratios to Redis always use edgekv's send to the
      last PoP: Redis's t0 is the writer's send.
  five.py table ROWS.jsonl    the table of every row."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from driver import column, nearest_rank  # noqa: E402 (one definition of the percentiles)


def summary(path, col):
    """{"n", "p50_us", "p99_us"} of a samples column; None when not measured."""
    if path == "-":
        return None
    v = column(path, col)
    if not v:
        return {"n": 0, "p50_us": None, "p99_us": None}
    return {"n": len(v), "p50_us": int(nearest_rank(v, 0.5)), "p99_us": int(nearest_rank(v, 0.99))}


def ratio(a, b):
    """[p50, p99] of a over b; None where either is missing."""
    if not a or not b:
        return None
    r = lambda k: a[k] / b[k] if a[k] is not None and b[k] else None
    return [r("p50_us"), r("p99_us")]


def row(args):
    n, t0 = int(args[0]), args[1]
    et, ee, ft, fe, rd = args[2:7]
    note = args[7] if len(args) > 7 else ""
    col = 1 if t0 == "commit" else 2
    out = {"n": n, "edgekv_t0": t0,
           "edgekv_tcp": summary(et, col), "edgekv_epgm": summary(ee, col),
           "edgekv_tcp_send": summary(et, 2), "edgekv_epgm_send": summary(ee, 2),
           "floor_tcp": summary(ft, 1), "floor_epgm": summary(fe, 1),
           "redis": summary(rd, 1), "redis_note": note if rd == "-" else ""}
    out["ratio"] = {"edgekv_epgm_tcp": ratio(out["edgekv_epgm"], out["edgekv_tcp"]),
                    "floor_epgm_tcp": ratio(out["floor_epgm"], out["floor_tcp"]),
                    "edgekv_epgm_redis": ratio(out["edgekv_epgm_send"], out["redis"]),
                    "edgekv_tcp_redis": ratio(out["edgekv_tcp_send"], out["redis"])}
    print(json.dumps(out, separators=(",", ":")))


def ms(s):
    if s is None:
        return "not run"
    f = lambda v: "-" if v is None else "%.2f" % (v / 1000)
    return "%s / %s" % (f(s["p50_us"]), f(s["p99_us"]))


def x(r):
    if r is None:
        return "-"
    f = lambda v: "-" if v is None else "%.2f" % v
    return "%s / %s" % (f(r[0]), f(r[1]))


def table(args):
    rows = []
    with open(args[0]) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    if not rows:
        return
    t0 = rows[0]["edgekv_t0"]
    print("last of N, p50 / p99 ms: edgekv %s -> last PoP; floor send on the PUB -> last SUB;"
          % t0)
    print("Redis send -> last replica's notification. Ratios x: p50 / p99. Against Redis, edgekv's"
          " send -> last PoP.")
    head = ("N", "edgekv TCP", "edgekv epgm", "epgm/TCP x", "floor TCP", "floor epgm",
            "floor epgm/TCP", "Redis", "ekv epgm/Redis", "ekv TCP/Redis")
    fmt = "  %4s | %15s | %15s | %11s | %15s | %15s | %14s | %15s | %14s | %13s"
    print(fmt % head)
    notes = []
    for r in rows:
        rx = r["ratio"]
        print(fmt % (r["n"], ms(r["edgekv_tcp"]), ms(r["edgekv_epgm"]), x(rx["edgekv_epgm_tcp"]),
                     ms(r["floor_tcp"]), ms(r["floor_epgm"]), x(rx["floor_epgm_tcp"]),
                     ms(r["redis"]), x(rx["edgekv_epgm_redis"]), x(rx["edgekv_tcp_redis"])))
        if r["redis_note"]:
            notes.append("  N=%s: Redis not run: %s" % (r["n"], r["redis_note"]))
    if t0 == "commit":
        print("  edgekv send -> last PoP, p50 / p99 ms (the Redis ratios' numerator): " +
              "; ".join("N=%s TCP %s, epgm %s" % (r["n"], ms(r["edgekv_tcp_send"]),
                                                   ms(r["edgekv_epgm_send"])) for r in rows))
    for line in notes:
        print(line)


def main(argv):
    if not argv or argv[0] not in ("row", "table"):
        sys.stderr.write(__doc__)
        sys.exit(2)
    (row if argv[0] == "row" else table)(argv[1:])


if __name__ == "__main__":
    main(sys.argv[1:])
