#!/usr/bin/env bash
# The edgekv CLI given stale or hostile files (sim/launch.c, sim/report_html.c, common/ekv_daemon.c):
#   - `edgekv down` with a stale state file whose pids now belong to other programs (here
#     `sleep`s of this test, recorded with start times that are not theirs) signals none of
#     them; the same file with a pid's true start time does stop that one (the control);
#   - `edgekv compare` writing report.html where a symbolic link to another file was planted:
#     the link is replaced by the report, its target keeps its content; names from the
#     results file that carry markup ("</script>", "<img onerror=...>", quotes) appear as
#     text, never as tags, and missing fields print as empty, not "(null)";
#   - `edgekv up` with symbolic links planted at the daemons' log files: no daemon writes
#     through them, and the topology comes up all the same.
# Every process is stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME

start_of() { awk '{print $22}' "/proc/$1/stat"; }

# state_json COORD_PID COORD_START POP_PID POP_START...: a state file as `edgekv up` writes it.
state_json() {
    local cpid=$1 cstart=$2 pops="" sep=""
    shift 2
    while [ $# -gt 0 ]; do
        pops+="$sep{\"name\": \"p$#\", \"city\": \"x\", \"url\": \"\", \"pid\": $1, \"start\": $2,"
        pops+=" \"delay_ms\": 0, \"policy\": \"push\"}"
        sep=", "
        shift 2
    done
    cat >"$H/state.json" <<JSON
{"topology": "/nonexistent.yaml", "time_scale": 1, "pub": "tcp://127.0.0.1:1",
 "router": "tcp://127.0.0.1:2",
 "coordinator": {"name": "coordinator", "city": "x", "url": "", "pid": $cpid, "start": $cstart,
                 "delay_ms": 0, "policy": ""},
 "pops": [$pops]}
JSON
}

# ---- down with a stale state file ---------------------------------------------------------
sleep 300 &
S1=$!
sleep 300 &
S2=$!
# shellcheck disable=SC2034 # stopped by ekv_cleanup (lib.sh)
PIDS="$S1 $S2"
for _ in $(seq 50); do [ -n "$(start_of $S1)" ] && [ -n "$(start_of $S2)" ] && break; sleep 0.1; done
T1=$(start_of $S1)
T2=$(start_of $S2)
# Every recorded process, the coordinator too, is one of the sleeps with a wrong start time.
state_json "$S1" $((T1 + 7)) "$S2" $((T2 + 1)) "$S1" $((T1 - 1)) "$S2" 0
out=$("$EKV" down 2>&1) || fail "down on a stale state exited non-zero: $out"
sleep 0.3
gone "$S1" && fail "down signalled pid $S1, recorded (as coordinator and PoP) with other start times"
gone "$S2" && fail "down signalled pid $S2, recorded with another start time (PoP)"
grep -q "stopped 0 processes" <<<"$out" || fail "down on a stale state: $out"
[ -f "$H/state.json" ] && fail "down left the stale state file"
pass "down with recycled pids signals none of them"

# The control: the same file with S2's true start time stops S2, and S1 still not.
state_json "$S1" $((T1 + 7)) "$S2" "$T2"
out=$("$EKV" down 2>&1) || fail "down exited non-zero: $out"
reap_or_kill 50 "$S2" >/dev/null 2>&1 || true
gone "$S1" && fail "down signalled pid $S1 (wrong start time)"
grep -q "stopped 1 processes" <<<"$out" || fail "down did not stop the recorded process: $out"
pass "down stops a recorded process whose start time matches"

# ---- compare: report.html through a planted link, names with markup ------------------------
echo "precious" >"$H/victim"
mkdir -p "$H/cmp"
ln -s "$H/victim" "$H/cmp/report.html"
cat >"$H/hostile.json" <<'JSON'
{"experiment": "x</title><script>alert(1)</script>", "duration_s": 1, "time_scale": 1,
 "workload": {"keys": 1, "distribution": "<b>zipf</b>"},
 "coordinator": {"city": "'><script>alert(2)</script>", "lat": 0, "lon": 0},
 "runs": [{"policy": "</script><svg onload=alert(3)>",
           "pops": [{"name": "<img src=x onerror=alert(4)>", "city": "a&b\"c", "lat": 1,
                     "lon": 2, "visibility_ms": {"p99": 1}},
                    {"lat": 3, "lon": 4}],
           "faults": [{"action": "<i>kill</i>", "pop": "</td><script>", "at_s": 1}]},
          {"policy": "ttl", "pops": []}]}
JSON
"$EKV" compare "$H/hostile.json" --out "$H/cmp" >"$H/compare.log" 2>&1 ||
    fail "compare: $(cat "$H/compare.log")"
[ "$(cat "$H/victim")" = "precious" ] || fail "compare wrote report.html through a planted link"
[ -L "$H/cmp/report.html" ] && fail "report.html is still the planted link"
[ -f "$H/cmp/report.html" ] || fail "no report.html"
R="$H/cmp/report.html"
grep -qi "<script" "$R" && fail "a name put a <script> tag on the page"
grep -qi "<img\|<svg onload\|<b>zipf\|<i>kill" "$R" && fail "a name put markup on the page"
grep -q "&lt;/script&gt;&lt;svg onload=alert(3)&gt;" "$R" || fail "the policy name is not shown as text"
grep -q "&lt;img src=x onerror=alert(4)&gt;" "$R" || fail "the PoP name is not shown as text"
grep -q "a&amp;b&quot;c" "$R" || fail "the city is not escaped"
grep -q "(null)" "$R" && fail "a missing field printed as (null)"
ls "$H/cmp" | grep -q "\.tmp\." && fail "a temporary file was left in the output folder"
pass "compare replaces a planted report.html link and shows markup as text"

# ---- up with links planted at the logs -----------------------------------------------------
mkdir -p "$H/logs"
for name in coordinator near mid far; do
    ln -s "$H/victim" "$H/logs/$name.log"
done
"$EKV" up "$SRC/tests/integration/three-pops.yaml" >"$H/up.log" 2>&1 ||
    fail "up with planted log links: $(cat "$H/up.log")"
[ "$(cat "$H/victim")" = "precious" ] || fail "a daemon wrote its log through a planted link"
"$EKV" down >/dev/null || fail "down after up"
[ "$(cat "$H/victim")" = "precious" ] || fail "a daemon wrote through a planted link at exit"
pass "daemons do not write their logs through planted links"

echo "$PASSED passed, 0 failed"
