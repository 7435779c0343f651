"""unit.bench_five: the five-way table of scripts/bench/five.py (scripts/bench/fanout and
scripts/bench/redis, issue 31).

Percentiles are nearest-rank at floor((n - 1) q) of the pooled samples, as driver.py and the C
tools take them; the edgekv column is commit -> last (column 1) for fanout and send -> last
(column 2) for redis, but the ratios to Redis always use send -> last, Redis's own t0; a
system not measured is null in the row and "not run" in the table, with Redis's reason, never
a number. Usage: python3 five_test.py SRC_DIR"""
import json
import os
import subprocess
import sys
import tempfile
import unittest

FIVE = os.path.join(sys.argv[1], "scripts", "bench", "five.py")


def five(*args):
    return subprocess.run(["python3", FIVE] + list(args), check=True, capture_output=True,
                          text=True).stdout


def samples(folder, name, rows):
    path = os.path.join(folder, name)
    with open(path, "w") as f:
        for r in rows:
            f.write(" ".join(str(v) for v in r) + "\n")
    return path


class Five(unittest.TestCase):
    def check(self, what, got, want):
        self.assertEqual(got, want, what)

    def test_rows_and_table(self):
        with tempfile.TemporaryDirectory() as d:
            # samples in us; edgekv: commit_to_last, send_to_last (= commit + 1000 or + 800)
            et = samples(d, "et", [(i * 10, i * 10 + 1000, 0, 0) for i in range(1, 101)])
            ee = samples(d, "ee", [(i * 5, i * 5 + 800, 0, 0) for i in range(1, 101)])
            ft = samples(d, "ft", [(i * 4,) for i in range(1, 101)])
            fe = samples(d, "fe", [(i * 2,) for i in range(1, 101)])
            rd = samples(d, "rd", [(i * 8 + 600, 0, 0) for i in range(1, 101)])

            row = json.loads(five("row", "10", "commit", et, ee, ft, fe, rd, ""))
            # nearest rank: index floor(99 * 0.5) = 49 -> the 50th value; floor(99 * 0.99) = 98
            self.check("edgekv TCP commit p50/p99", (row["edgekv_tcp"]["p50_us"], row["edgekv_tcp"]["p99_us"]),
                  (500, 990))
            self.check("edgekv epgm send p50", row["edgekv_epgm_send"]["p50_us"], 1050)
            self.check("floor epgm p99", row["floor_epgm"]["p99_us"], 198)
            self.check("redis p50", row["redis"]["p50_us"], 1000)
            self.check("epgm/TCP edgekv", row["ratio"]["edgekv_epgm_tcp"], [250 / 500, 495 / 990])
            self.check("epgm/TCP floor", row["ratio"]["floor_epgm_tcp"], [0.5, 0.5])
            # against Redis: send -> last (1050, 1295) over Redis (1000, 1392), not commit -> last
            self.check("edgekv epgm / Redis uses send", row["ratio"]["edgekv_epgm_redis"],
                  [1050 / 1000, 1295 / 1392])

            row = json.loads(five("row", "10", "send", et, ee, ft, fe, rd, ""))
            self.check("redis script: edgekv column is send -> last", row["edgekv_tcp"]["p50_us"], 1500)

            rows = os.path.join(d, "rows.jsonl")
            with open(rows, "w") as f:
                f.write(five("row", "10", "commit", et, ee, ft, fe, rd, "ignored when measured"))
                f.write(five("row", "300", "commit", et, "-", ft, "-", "-",
                             "not all 300 replicas online after 90 s"))
            r300 = json.loads(open(rows).read().splitlines()[1])
            self.check("not measured: null", (r300["edgekv_epgm"], r300["redis"], r300["ratio"]["edgekv_tcp_redis"]),
                  (None, None, None))
            self.check("the reason kept", r300["redis_note"], "not all 300 replicas online after 90 s")
            self.check("a note only when not run", json.loads(open(rows).read().splitlines()[0])["redis_note"], "")
            out = five("table", rows)
            print(out)
            lines = out.splitlines()
            n10 = [l for l in lines if l.strip().startswith("10 |")][0]
            n300 = [l for l in lines if l.strip().startswith("300 |")][0]
            self.check("table: N = 10 cells", [c.strip() for c in n10.split("|")],
                  ["10", "0.50 / 0.99", "0.25 / 0.49", "0.50 / 0.50", "0.20 / 0.40", "0.10 / 0.20",
                   "0.50 / 0.50", "1.00 / 1.39", "1.05 / 0.93", "1.50 / 1.43"])
            self.check("table: N = 300, what was not run says so", [c.strip() for c in n300.split("|")][2:9],
                  ["not run", "-", "0.20 / 0.40", "not run", "-", "not run", "-"])
            self.check("table: the reason", any("N=300: Redis not run: not all 300 replicas" in l
                                           for l in lines), True)



if __name__ == "__main__":
    unittest.main(argv=sys.argv[:1])
