"""unit.bench_driver: the arithmetic of scripts/bench/driver.py.

The benchmarks' published numbers come from here, so: percentiles are nearest-rank at
floor((n - 1) q) as the C tools take them; the median of an even count is the lower one; the
sustained-rate ladder asks for exactly the steps the shell ladder of the benchmarks asked for
(climb while passing, one retry of a step that does not pass cleanly, the midpoint below a
failure, halving when the first rate fails); the highest passing rate stops at the first rate
that failed every try. Usage: python3 driver_test.py SRC_DIR"""
import json
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(sys.argv[1], "scripts", "bench"))
import driver  # noqa: E402

FAILED = 0


def check(what, got, want):
    global FAILED
    if got != want:
        FAILED += 1
        print("FAIL: %s: got %r, want %r" % (what, got, want))
    else:
        print("ok: %s" % what)


def run_ladder(rates, systems, verdicts):
    """The steps the ladder asks for when (system, rate) gets verdicts[(system, rate)] (a list:
    one verdict per try, the last one repeating; 0 when absent)."""
    tries, seq = {}, []
    gen = driver.ladder(rates, systems)
    try:
        want = next(gen)
        while True:
            seq.append(want)
            vs = verdicts.get(want, [0])
            i = tries.get(want, 0)
            tries[want] = i + 1
            want = gen.send(vs[min(i, len(vs) - 1)])
    except StopIteration:
        return seq


def main():
    with tempfile.TemporaryDirectory() as d:
        samples = os.path.join(d, "s")
        with open(samples, "w") as f:  # column 2 is 100..1 (reversed), column 1 is 1..100
            f.write("".join("%d %d\n" % (i, 101 - i) for i in range(1, 101)))
        check("p50 of 1..100 is the 50th", driver.pct(samples, 1, 0.5), 50)
        check("p99 of 1..100 is the 99th", driver.pct(samples, 2, 0.99), 99)
        check("max", driver.pct(samples, 1, 1), 100)
        check("summary", driver.summary(samples, 2), {"p50_us": 50, "p99_us": 99})
        empty = os.path.join(d, "e")
        open(empty, "w").close()
        check("percentile of nothing is -1", driver.pct(empty, 1, 0.5), -1)
        check("median of an even count is the lower", driver.median([4, 1, 3, 2]), 2)
        check("median of an odd count", driver.median([5, 1, 3]), 3)

        # The ladder of scripts/bench/redis: edgekv fails 2000 on both tries, redis 4000.
        seq = run_ladder([500, 1000, 2000, 4000], ["edgekv", "redis"],
                         {("edgekv", 2000): [2], ("redis", 4000): [2, 2]})
        check("two systems: alternate, retry a failure, then midpoints", seq,
              [("edgekv", 500), ("redis", 500), ("edgekv", 1000), ("redis", 1000),
               ("edgekv", 2000), ("edgekv", 2000), ("redis", 2000), ("redis", 4000),
               ("redis", 4000), ("edgekv", 1500), ("redis", 3000)])
        # A retry that passes counts (the better of the two tries).
        seq = run_ladder([500, 1000], ["edgekv"], {("edgekv", 500): [2, 0]})
        check("a failed step passes on its retry", seq,
              [("edgekv", 500), ("edgekv", 500), ("edgekv", 1000)])
        # Catch-ups only (verdict 1) keep climbing; no midpoint when the gap is under 30%.
        seq = run_ladder([1000, 1200, 2000], ["edgekv"],
                         {("edgekv", 1000): [1], ("edgekv", 1200): [2]})
        check("verdict 1 climbs; no midpoint below 30%", seq,
              [("edgekv", 1000), ("edgekv", 1000), ("edgekv", 1200), ("edgekv", 1200)])
        # The first rate fails: halve it twice at most, not below 200/s.
        seq = run_ladder([500, 1000], ["edgekv"],
                         {("edgekv", 500): [2], ("edgekv", 250): [2], ("edgekv", 125): [2]})
        check("first rate fails: halving", seq,
              [("edgekv", 500), ("edgekv", 500), ("edgekv", 250), ("edgekv", 250),
               ("edgekv", 125), ("edgekv", 125)])

        # Replay through a steps file, as the scripts call it.
        steps = os.path.join(d, "steps.jsonl")
        rows = [{"system": "edgekv", "n": 10, "durability": "fsync", "rate": 500,
                 "keeps_up": True},
                {"system": "redis", "n": 10, "durability": "fsync", "rate": 500,
                 "keeps_up": False, "checks": {"writer": True, "delivered": True,
                                               "steady": True}},
                {"system": "redis", "n": 50, "durability": "fsync", "rate": 500,
                 "keeps_up": True}]
        with open(steps, "w") as f:
            f.write("".join(json.dumps(r) + "\n" for r in rows))
        out = subprocess.run([sys.executable, driver.__file__, "ladder", steps, "500 1000",
                              "--system", "edgekv", "--system", "redis", "--where", "n=10"],
                             capture_output=True, text=True)
        check("ladder from a steps file: redis's lenient pass is a failure, retried",
              out.stdout.strip(), "redis 500")
        check("highest: strict", driver.highest(rows[:1], lambda s: s["keeps_up"]), 500)
        check("highest: redis strict fails at the first rate",
              driver.highest(rows[1:2], lambda s: s["keeps_up"]), 0)
        hi = driver.highest([{"rate": 500, "keeps_up": True}, {"rate": 1000, "keeps_up": False},
                             {"rate": 1000, "keeps_up": True}, {"rate": 2000, "keeps_up": False},
                             {"rate": 4000, "keeps_up": True}], lambda s: s["keeps_up"])
        check("highest: a rate passes when any try did; stops at the first failure", hi, 1000)
    print("%d failed" % FAILED)
    sys.exit(1 if FAILED else 0)


if __name__ == "__main__":
    main()
