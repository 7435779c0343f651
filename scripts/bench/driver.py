#!/usr/bin/env python3
"""The arithmetic of the benchmarks in scripts/bench: percentiles, medians, the sustained-rate
ladder and the JSON they report. The shell scripts start and stop processes (lib.sh); every
number they print or save is computed here. Python 3 standard library only.

Samples files hold one write a line, microseconds in whitespace-separated columns (the
SAMPLES output of tests/bench/fanout_load.c and redis_bench.c). Percentiles are nearest-rank
on the sorted column, index floor((n - 1) q), as the C tools take them; -1 when empty.

Steps files (JSON lines) hold one sustained-rate step each: a tool's `sustain` JSON plus what
the script adds (system, n, durability, gaps_logged, ...). A step's verdict: 0 keeps up; 1 only
when catch-ups are not held against edgekv (writer on schedule, every change delivered, lag
steady); 2 fails.

Commands (each prints its result on standard output):
  free-ports K                 K distinct free loopback ports
  mono-us                      CLOCK_MONOTONIC in microseconds (the tools' BENCH_START_MONO_US)
  since-us T0                  seconds since T0 (a mono-us reading), 3 decimals
  median V...                  the median (the lower one of an even count)
  pct FILE COLUMN Q            one percentile of a samples column (1-based)
  ladder STEPS RATES [--system S]... [--where K=V]...
                               the next "SYSTEM RATE" of the ladder, nothing when it is done
  highest STEPS [--lenient] [--where K=V]...
                               the highest rate up to which every rate tried passed
  step-verdict STEP.json       the verdict of one step (also the exit status)
  step-line STEP.json          one step, as the benchmarks print it
  bulk-files N PER BYTES DIR   bulk-write bodies of N keys, PER a file (node-read)
  merge FILE [K=V...] [+ K=V...]  adds fields to a tool's JSON (in front, or after "+")
  msg-bytes LATENCY.json       the message size of a fanout_load latency run, rounded
and the per-benchmark reports: redis-round, redis-latency, redis-highest, redis-report,
redis-results, fanout-round, fanout-latency, fanout-report, fanout-results (see each)."""
import json
import os
import socket
import sys
import time


def die(msg):
    sys.stderr.write("driver.py: %s\n" % msg)
    sys.exit(2)


# ---- numbers ---------------------------------------------------------------------------------


def column(path, col):
    """The numbers of 1-based column col of a samples file, sorted."""
    out = []
    with open(path) as f:
        for line in f:
            parts = line.split()
            if len(parts) >= col:
                out.append(float(parts[col - 1]))
    out.sort()
    return out


def nearest_rank(sorted_values, q):
    if not sorted_values:
        return -1
    return sorted_values[int((len(sorted_values) - 1) * q)]


def num(v):
    """A number as JSON and the shell print it: integral values without a fraction."""
    return int(v) if isinstance(v, float) and v.is_integer() else v


def pct(path, col, q):
    return num(nearest_rank(column(path, col), q))


def summary(path, col, qs=(("p50_us", 0.5), ("p99_us", 0.99))):
    values = column(path, col)
    return {name: num(nearest_rank(values, q)) for name, q in qs}


def count_lines(path):
    with open(path) as f:
        return sum(1 for _ in f)


def median(values):
    values = sorted(values)
    return values[(len(values) + 1) // 2 - 1] if values else None


def ms(us):
    return "%.2f" % (us / 1000)


def ratio(a, b):
    return "%.2f" % (a / b) if b and b > 0 else "n/a"


def read_json(path):
    with open(path) as f:
        return json.load(f)


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def jq_round(x):
    """jq's round: half away from zero."""
    return int(x + 0.5) if x >= 0 else -int(-x + 0.5)


def ms2(us):
    """jq's `. / 10 | round / 100`, printed as jq prints numbers."""
    v = jq_round(us / 10) / 100
    return num(v) if isinstance(v, float) else v


# ---- sustained-rate steps and the ladder -------------------------------------------------------


def lenient_ok(s):
    c = s.get("checks", {})
    return bool(c.get("writer") and c.get("delivered") and c.get("steady"))


def verdict(s):
    if s.get("keeps_up"):
        return 0
    if s.get("system", "edgekv") == "edgekv" and lenient_ok(s):
        return 1
    return 2


def matches(s, where):
    for k, v in where:
        have = s.get(k)
        if str(have) != v:
            return False
    return True


def ladder(rates, systems):
    """The search, as a generator: yields (system, rate), is sent the verdict of each step.

    Each system climbs RATES while its rates pass (verdict 0 or 1), the systems taking turns
    at each rate; a step that does not pass cleanly is tried once more and the better verdict
    counts. Then each system tries the midpoint below the rate that failed, when that is 30%
    or more above the last that passed; a system whose first rate failed halves it (twice at
    most, not below 200/s) to find one that passes."""

    def attempt(sys_, rate):
        v = yield (sys_, rate)
        if v != 0:
            v2 = yield (sys_, rate)
            v = min(v, v2)
        return v

    best = {s: 0 for s in systems}
    bad = {s: 0 for s in systems}
    for rate in rates:
        for s in systems:
            if bad[s]:
                continue
            v = yield from attempt(s, rate)
            if v == 2:
                bad[s] = rate
            else:
                best[s] = rate
        if all(bad[s] for s in systems):
            break
    for s in systems:
        p, f = best[s], bad[s]
        if f > 0 and p > 0 and (f - p) * 10 // p >= 3:
            yield from attempt(s, (p + f) // 2)
        rate = f
        while p == 0 and rate >= 200 and rate > (f + 3) // 4:
            rate //= 2
            v = yield from attempt(s, rate)
            if v != 2:
                p = rate


def ladder_next(steps, rates, systems):
    """Replays the recorded steps through the search; the step it asks for next, or None."""
    gen = ladder(rates, systems)
    try:
        want = next(gen)
        for s in steps:
            if (s.get("system", systems[0]), int(s["rate"])) != want:
                die("steps file does not follow the ladder: %r, expected %r"
                    % (s.get("rate"), want))
            want = gen.send(verdict(s))
        return want
    except StopIteration:
        return None


def highest(steps, ok):
    """The highest rate up to which every rate tried passed (a rate passes when any of its
    tries did), 0 when the lowest failed."""
    by_rate = {}
    for s in steps:
        by_rate.setdefault(s["rate"], False)
        by_rate[s["rate"]] = by_rate[s["rate"]] or ok(s)
    hi = 0
    for rate in sorted(by_rate):
        if not by_rate[rate]:
            break
        hi = rate
    return int(hi)


def parse_where(args):
    where, rest, systems, lenient = [], [], [], False
    it = iter(args)
    for a in it:
        if a == "--where":
            k, _, v = next(it).partition("=")
            where.append((k, v))
        elif a == "--system":
            systems.append(next(it))
        elif a == "--lenient":
            lenient = True
        else:
            rest.append(a)
    return where, rest, systems, lenient


def step_line(s):
    """One step as the benchmarks print it (edgekv steps of fanout have no system)."""
    w = s["writer"]
    head = "  %d/s:" % int(s["rate"])
    if "system" in s:
        head = "  %s %d/s:" % (s["system"][:6], int(s["rate"]))
    line = "%s %s; " % (head, "keeps up" if s["keeps_up"] else "FAILS (%s)" % s["why"])
    lag = "last-PoP lag" if "system" not in s else "lag"
    line += "%s p50 first %s ms, final %s ms; p99 first %s ms, final %s ms; " % (
        lag, ms2(s["first"]["p50_us"]), ms2(s["final"]["p50_us"]), ms2(s["first"]["p99_us"]),
        ms2(s["final"]["p99_us"]))
    line += "sent %d/s, %s late, %s conns" % (jq_round(w["sent_rate"]), w["late_sends"], w["conns"])
    if s.get("system") == "redis":
        line += "; full resyncs %s, replicas connected %s" % (s["full_resyncs"],
                                                              s["connected_replicas"])
    elif "system" in s:
        line += "; gaps %s (%s in the stream), catch-ups %s" % (s["gaps"], s["gaps_logged"],
                                                               s["catchups"])
    else:
        line += "; gaps %s (%s in the stream), catch-ups %s;" % (s["gaps"], s["gaps_logged"],
                                                                s["catchups"])
        # cores: CPU microseconds per second / 1e6, to two decimals (ms2 divides by 1000)
        line += " PoPs ran %s cores, waited for one %s" % (
            ms2(s["pops_cpu_us"] / 1e3 / s["seconds"]),
            ms2(s["pops_runqueue_wait_us"] / 1e3 / s["seconds"]))
    return line


# ---- scripts/bench/redis -------------------------------------------------------------------------


def redis_round(args):
    """redis-round E.json R.json N MODE ROUND: one latency round's line."""
    e, r = read_json(args[0]), read_json(args[1])
    es, rs = e["send_to_last"], r["send_to_last"]
    print("  N=%-3s %-7s round %s: send->last edgekv p50 %s ms p99 %s ms | redis p50 %s ms p99 %s"
          " ms (missing %s / %s)" % (args[2], args[3], args[4], ms(es["p50_us"]), ms(es["p99_us"]),
                                     ms(rs["p50_us"]), ms(rs["p99_us"]), e["missing"],
                                     r["missing"]))


def redis_latency(args):
    """redis-latency N MODE EKV.samples REDIS.samples: the pooled summary of one N, a JSON line.

    edgekv samples: commit_to_last send_to_last ack_to_last send_to_ack; Redis: send_to_last
    ack_to_last send_to_ack."""
    n, mode, es, rs = int(args[0]), args[1], args[2], args[3]
    e = {"samples": count_lines(es), "send_to_last": summary(es, 2), "ack_to_last": summary(es, 3),
         "send_to_ack": summary(es, 4), "commit_to_last": summary(es, 1)}
    r = {"samples": count_lines(rs), "send_to_last": summary(rs, 1), "ack_to_last": summary(rs, 2),
         "send_to_ack": summary(rs, 3)}
    out = {"n": n, "durability": mode, "edgekv": e, "redis": r}
    for q in ("p50", "p99"):
        rv, ev = r["send_to_last"][q + "_us"], e["send_to_last"][q + "_us"]
        out["ratio_send_to_last_" + q] = ev / rv if rv > 0 else None
    print(json.dumps(out, separators=(",", ":")))


def redis_highest(args):
    """redis-highest STEPS N MODE: the highest passing rates of one N, a JSON line."""
    steps = [s for s in read_jsonl(args[0])
             if s["n"] == int(args[1]) and s["durability"] == args[2]]
    of = lambda sys_: [s for s in steps if s["system"] == sys_]
    print(json.dumps({"n": int(args[1]), "durability": args[2],
                      "edgekv_highest": highest(of("edgekv"), lambda s: s["keeps_up"]),
                      "redis_highest": highest(of("redis"), lambda s: s["keeps_up"]),
                      "edgekv_highest_ignoring_catchups": highest(of("edgekv"), lenient_ok)},
                     separators=(",", ":")))


def redis_report(args):
    """redis-report LATENCY.jsonl HIGHEST.jsonl|- TOP: the closing tables."""
    row = "  %-4s %-12s | %-21s | %-21s | %-13s | %-21s | %-21s"
    print(row % ("N", "sync", "edgekv send->last", "redis send->last", "ratio e/r",
                 "ack->last e / r p50", "send->ack e / r p50"))
    print(row % ("", "", "p50 / p99 ms", "p50 / p99 ms", "p50 / p99", "ms", "ms"))
    for l in read_jsonl(args[0]):
        e, r = l["edgekv"], l["redis"]
        print("  %-4s %-12s | %8s / %8s   | %8s / %8s   | %5s / %5s | %8s / %8s   | %8s / %8s" % (
            l["n"], l["durability"], ms(e["send_to_last"]["p50_us"]),
            ms(e["send_to_last"]["p99_us"]),
            ms(r["send_to_last"]["p50_us"]), ms(r["send_to_last"]["p99_us"]),
            ratio(e["send_to_last"]["p50_us"], r["send_to_last"]["p50_us"]),
            ratio(e["send_to_last"]["p99_us"], r["send_to_last"]["p99_us"]),
            ms(e["ack_to_last"]["p50_us"]), ms(r["ack_to_last"]["p50_us"]),
            ms(e["send_to_ack"]["p50_us"]), ms(r["send_to_ack"]["p50_us"])))
    if args[1] == "-":
        return
    top = int(args[2])
    at_least = lambda v: ">=%d" % v if v == top else str(v)
    print("sustained writes/s without falling behind (highest passing step; >= when it is the top")
    print("of the ladder, %d/s, so the limit was not reached):" % top)
    for l in read_jsonl(args[1]):
        print("  N=%-3s %-7s edgekv %6s/s   redis %6s/s   ratio e/r %s   (edgekv %s/s if catch-ups"
              " are not counted as failures)" % (
                  l["n"], l["durability"], at_least(l["edgekv_highest"]),
                  at_least(l["redis_highest"]), ratio(l["edgekv_highest"], l["redis_highest"]),
                  l["edgekv_highest_ignoring_catchups"]))


def redis_results(args):
    """redis-results LATENCY.jsonl STEPS.jsonl HIGHEST.jsonl REDIS_VERSION RATE COUNT ROUNDS
    SECONDS: the results file."""
    lat, sus, hi = read_jsonl(args[0]), read_jsonl(args[1]), read_jsonl(args[2])
    out = {
        "benchmark": "redis",
        "machine": {"cores": len(os.sched_getaffinity(0)), "kernel": os.uname().release,
                    "redis": args[3]},
        "definitions": {
            "t0": "the moment the writer sent the write (both systems)",
            "t1_edgekv": "visible_us stamped by the last PoP when it applied the change",
            "t1_redis": "receipt of the last replica keyspace notification by the subscriber",
            "fsync": "edgekv coordinator fsync before ack; Redis primary appendonly yes + "
                     "appendfsync always",
            "nofsync": "edgekv coordinator --durability none; Redis appendonly no"},
        "write_rate": int(args[4]), "writes_per_n": int(args[5]), "rounds": int(args[6]),
        "latency": lat,
        "sustain": {"seconds_per_rate": int(args[7]), "highest": hi, "steps": sus}}
    print(json.dumps(out, indent=2))


# ---- scripts/bench/fanout ------------------------------------------------------------------------


def fanout_round(args):
    """fanout-round EKV.json FLOOR.json N ROUND: one latency round's line."""
    e, f = read_json(args[0]), read_json(args[1])
    print("  N=%-4s round %s: edgekv p50 %s ms p99 %s ms | floor p50 %s ms p99 %s ms" % (
        args[2], args[3], ms(e["commit_to_last"]["p50_us"]), ms(e["commit_to_last"]["p99_us"]),
        ms(f["p50_us"]), ms(f["p99_us"])))


def fanout_ekv_round(args):
    """fanout-ekv-round EKV.json ROUND PER N CPU_US WAIT_US: an edgekv round's record: PoP CPU
    over the whole run (its heartbeats and the collection included) per delivered write, and
    the PoP threads' time runnable but without a CPU."""
    e = read_json(args[0])
    rnd, per, n, cpu, wait = (int(a) for a in args[1:6])
    d = (per + 50) * n
    print(json.dumps({"round": rnd, "missing": e["missing"], "writer": e["writer"],
                      "commit_to_each": e["commit_to_each"], "pops_cpu_us": cpu,
                      "cpu_us_per_delivery": cpu / d, "pops_runqueue_wait_us": wait,
                      "runqueue_wait_us_per_delivery": wait / d}, separators=(",", ":")))


def fanout_floor_round(args):
    """fanout-floor-round FLOOR.json ROUND: a floor round's record."""
    f = read_json(args[0])
    out = {"round": int(args[1])}
    out.update(f)
    out["runqueue_wait_us_per_delivery"] = f["subs_runqueue_wait_us"] / ((f["count"] + 50) * f["n"])
    print(json.dumps(out, separators=(",", ":")))


def fanout_latency(args):
    """fanout-latency N UP_S BYTES EKV.samples FLOOR.samples EKV_ROUNDS FLOOR_ROUNDS: the
    pooled summary of one N, a JSON line."""
    n, up, nbytes, es, fs = int(args[0]), float(args[1]), int(args[2]), args[3], args[4]
    er, fr = read_jsonl(args[5]), read_jsonl(args[6])
    qs = (("p50_us", 0.5), ("p99_us", 0.99))
    c2l = summary(es, 1, qs + (("max_us", 1),))
    fl = summary(fs, 1, qs + (("max_us", 1),))
    mean = lambda rs, k: sum(r[k] for r in rs) / len(rs)
    out = {"pops": n, "up_seconds": up, "msg_bytes": nbytes,
           "edgekv": {"samples": count_lines(es), "commit_to_last": c2l,
                      "send_to_last": summary(es, 2), "ack_to_last": summary(es, 3),
                      "send_to_ack": summary(es, 4), "rounds": er},
           "floor": {"samples": count_lines(fs), "send_to_last": fl, "rounds": fr},
           "cpu_us_per_delivery": {"edgekv_pop": mean(er, "cpu_us_per_delivery"),
                                   "floor_sub": mean(fr, "cpu_us_per_delivery")},
           "runqueue_wait_us_per_delivery": {
               "edgekv_pop": mean(er, "runqueue_wait_us_per_delivery"),
               "floor_sub": mean(fr, "runqueue_wait_us_per_delivery")},
           "ratio_p50": c2l["p50_us"] / fl["p50_us"] if fl["p50_us"] > 0 else None,
           "ratio_p99": c2l["p99_us"] / fl["p99_us"] if fl["p99_us"] > 0 else None}
    print(json.dumps(out, separators=(",", ":")))


def fanout_report(args):
    """fanout-report LATENCY.jsonl: the closing tables."""
    lat = read_jsonl(args[0])
    print("commit -> visible at the LAST PoP (edgekv, t0 = commit_us after fsync, t1 = PoP's"
          " visible_us)")
    print("vs send -> received by the LAST SUB (bare libzmq PUB/SUB, same message size and rate):")
    print("  %5s %6s | %10s %10s | %10s %10s | %8s %8s | %s" % (
        "N", "bytes", "edgekv p50", "p99", "floor p50", "p99", "x p50", "x p99",
        "per delivery, us: CPU PoP / SUB, runqueue wait PoP / SUB"))
    for l in lat:
        e, f = l["edgekv"]["commit_to_last"], l["floor"]["send_to_last"]
        cpu, wait = l["cpu_us_per_delivery"], l["runqueue_wait_us_per_delivery"]
        print("  %5s %6s | %7s ms %7s ms | %7s ms %7s ms | %7sx %7sx | %.0f / %.0f, %.0f / %.0f" % (
            l["pops"], l["msg_bytes"], ms(e["p50_us"]), ms(e["p99_us"]), ms(f["p50_us"]),
            ms(f["p99_us"]), ratio(e["p50_us"], f["p50_us"]), ratio(e["p99_us"], f["p99_us"]),
            cpu["edgekv_pop"], cpu["floor_sub"], wait["edgekv_pop"], wait["floor_sub"]))
    print("edgekv, same writes, other definitions (p50 / p99):")
    for l in lat:
        e = l["edgekv"]
        print("  N=%-4s send->last PoP %s / %s ms; ack->last PoP %s / %s ms;"
              " send->ack %s / %s ms" % (
            l["pops"], ms(e["send_to_last"]["p50_us"]), ms(e["send_to_last"]["p99_us"]),
            ms(e["ack_to_last"]["p50_us"]), ms(e["ack_to_last"]["p99_us"]),
            ms(e["send_to_ack"]["p50_us"]), ms(e["send_to_ack"]["p99_us"])))


def fanout_results(args):
    """fanout-results LATENCY.jsonl STEPS.jsonl RATE COUNT ROUNDS|- SPOPS SECONDS HIGHEST|-
    HIGHEST_LENIENT|-: the results file."""
    opt = lambda a: None if a in ("-", "") else int(a)
    out = {
        "benchmark": "fanout",
        "machine": {"cores": len(os.sched_getaffinity(0)), "kernel": os.uname().release},
        "definitions": {
            "edgekv": "t0 = commit_us (coordinator, after fsync), t1 = visible_us at the last PoP",
            "floor": "t0 = just before zmq_send, t1 = receipt at the last SUB"},
        "write_rate": int(args[2]), "writes_per_n": int(args[3]), "rounds": opt(args[4]),
        "latency": read_jsonl(args[0]),
        "sustain": {"pops": int(args[5]), "seconds_per_rate": int(args[6]),
                    "steps": read_jsonl(args[1]), "highest_keeping_up": opt(args[7]),
                    "highest_ignoring_catchups": opt(args[8])}}
    print(json.dumps(out, indent=2))


# ---- main ----------------------------------------------------------------------------------------


def bulk_files(n, per, value_bytes, folder):
    """Bulk-write bodies of n keys k000000000000000.. (16 bytes), per keys a file."""
    for s in range(0, n, per):
        with open("%s/bulk-%d.json" % (folder, s // per), "w") as f:
            json.dump([{"key": "k%015d" % i, "value": "v" * value_bytes}
                       for i in range(s, min(s + per, n))], f)


def merge(args):
    """merge FILE [K=V...] [+ K=V...]: rewrites a tool's JSON object as one line, the fields
    before "+" in front of its own, those after it behind; V is JSON when it parses as such
    (numbers, true), else text."""

    def value(v):
        try:
            return json.loads(v)
        except ValueError:
            return v

    front, back, side = {}, {}, None
    side = front
    for a in args[1:]:
        if a == "+":
            side = back
            continue
        k, _, v = a.partition("=")
        side[k] = value(v)
    out = dict(front)
    out.update(read_json(args[0]))
    out.update(back)
    with open(args[0] + ".tmp", "w") as f:
        f.write(json.dumps(out, separators=(",", ":")) + "\n")
    os.replace(args[0] + ".tmp", args[0])


def free_ports(k):
    socks = []
    for _ in range(k):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
    return " ".join(str(s.getsockname()[1]) for s in socks)


def main(argv):
    if not argv:
        die("no command (see the docstring)")
    cmd, args = argv[0], argv[1:]
    if cmd == "free-ports":
        print(free_ports(int(args[0])))
    elif cmd == "mono-us":
        print(time.monotonic_ns() // 1000)
    elif cmd == "since-us":
        print("%.3f" % ((time.monotonic_ns() // 1000 - int(args[0])) / 1e6))
    elif cmd == "median":  # printed as given ("2.630" stays "2.630")
        m = median([(float(a), a) for a in args])
        print("" if m is None else m[1])
    elif cmd == "msg-bytes":  # a latency run's message size on the wire, rounded
        print(jq_round(read_json(args[0])["writer"]["msg_bytes"]))
    elif cmd == "merge":
        merge(args)
    elif cmd == "bulk-files":
        bulk_files(int(args[0]), int(args[1]), int(args[2]), args[3])
    elif cmd == "pct":
        print(pct(args[0], int(args[1]), float(args[2])))
    elif cmd == "ladder":
        where, rest, systems, _ = parse_where(args)
        steps = [s for s in read_jsonl(rest[0]) if matches(s, where)]
        nxt = ladder_next(steps, [int(r) for r in rest[1].split()], systems or ["edgekv"])
        if nxt:
            print("%s %d" % nxt)
    elif cmd == "highest":
        where, rest, _, lenient = parse_where(args)
        steps = [s for s in read_jsonl(rest[0]) if matches(s, where)]
        print(highest(steps, lenient_ok if lenient else lambda s: s["keeps_up"]))
    elif cmd == "step-verdict":
        v = verdict(read_json(args[0]))
        print(v)
        sys.exit(v)
    elif cmd == "step-line":
        print(step_line(read_json(args[0])))
    else:
        fn = {"redis-round": redis_round, "redis-latency": redis_latency,
              "redis-highest": redis_highest, "redis-report": redis_report,
              "redis-results": redis_results, "fanout-round": fanout_round,
              "fanout-ekv-round": fanout_ekv_round, "fanout-floor-round": fanout_floor_round,
              "fanout-latency": fanout_latency, "fanout-report": fanout_report,
              "fanout-results": fanout_results}.get(cmd)
        if not fn:
            die("unknown command %s" % cmd)
        fn(args)


if __name__ == "__main__":
    main(sys.argv[1:])
