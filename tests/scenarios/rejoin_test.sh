#!/usr/bin/env bash
# PoPs killed (SIGKILL) while writes flow, restarted, and rejoining: a push PoP and a push-all
# replica.
#
# Topology (rejoin-topology.yaml, time_scale 1, ephemeral loopback ports): w (push, 0 ms)
# takes the writes, o (push, 5 ms) reads, a (push, 10 ms) and b (push-all, 20 ms) are killed.
# The test writes 200 keys through the REST API, then `edgekv run rejoin-load.yaml` drives 20 s
# of load on the running topology (50 writes/s through w to those keys, 30 reads/s at every
# PoP). Asserted:
#   part 1, faults from the command line (`edgekv fault kill|restart POP`):
#     - 2 s into the load `fault kill a` and `fault kill b` end both processes (the recorded
#       pids are gone, their ports refuse connections, `status` says not running);
#     - writes go on meanwhile: the coordinator's sequence grows by >= 100 in the 4 s they are
#       down (~200 expected);
#     - `fault restart a|b` brings each back on its old URL with a new pid and its own policy
#       (push, push-all); a starts at the coordinator's current sequence; b loads a snapshot
#       and the log tail and reaches the sequence the coordinator had at the restart (time
#       printed, < 5 s);
#     - after the load: every PoP has applied the latest sequence; every key read at every PoP
#       answers 200 with the coordinator's version and value, b's all from its replica (HIT)
#       (a difference must survive 3 rounds a second apart: a host starved of CPU can make a
#       PoP answer 503 for a moment); then every key gets a new value through the REST API and
#       a, which cached them all after its restart, serves every one as a HIT at the new
#       version without an origin read (pushes reach it); `edgekv verify` exits 0 (b's digest
#       equals the coordinator's);
#     - results.json: no write failed (w never went down), >= 700 writes acknowledged, no
#       failed read at w or o, failed reads at a and b (they were really down).
#   part 2, the same kill and restart of b on an experiment's timeline (`edgekv run
#     rejoin-timeline.yaml`, on the running topology): both faults applied, b runs again
#     under a new pid, every PoP converges and `edgekv verify` exits 0; last, b must still be
#     a push-all replica.
# The last check guards against a bug fixed in 4173bc5 (sim/run.c, one_run): on a running
# topology `edgekv run` fired its faults with a copy of the topology whose per-PoP policy
# overrides were cleared, so a PoP it restarted came back with the topology's default policy
# (b: push instead of push-all, an empty cache instead of a replica).
# Usage: bash rejoin_test.sh BIN_DIR SRC_DIR. About 40 s.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/scenario_lib.sh" "$1" "$2"
TOPO="$HERE/rejoin-topology.yaml"

NKEYS=200
KEYS=$(seq -f 'k%07g' 0 $((NKEYS - 1)))

status() { "$EKV" status --json >"$EDGEKV_HOME/status.json" || fail "edgekv status"; }
field() { jq -r --arg n "$1" ".pops[] | select(.name == \$n) | .$2" "$EDGEKV_HOME/status.json"; }
coord_seq() { curl -sf --max-time 5 "$C/health" | jq -r .seq; }
ms_since() { awk -v a="$1" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", (b - a) * 1000 }'; }

# Waits (up to 10 s) until every PoP has applied the coordinator's latest sequence.
quiesce() {
    local latest name
    latest=$(coord_seq)
    for name in w o a b; do
        poll_applied "$(field "$name" url)" "$latest" 200 0.05 && [ "$APPLIED" = "$latest" ] ||
            fail "$name at seq $APPLIED of $latest 10 s after the load"
    done
    LATEST=$latest
}

# ---- up, every key written ----------------------------------------------------------------
"$EKV" up "$TOPO" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
status
C=$(jq -r .coordinator.url "$EDGEKV_HOME/status.json")
API="$C/client/v4/accounts/x/storage/kv/namespaces/$NS"
A=$(field a url)
B=$(field b url)
[ "$(field a policy)" = push ] && [ "$(field b policy)" = push-all ] ||
    fail "status: $(cat "$EDGEKV_HOME/status.json")"
put_keys "$EDGEKV_HOME/bulk.json" "bulk put" init
quiesce
pass "topology up (a push, b push-all), $NKEYS keys written, seq $LATEST everywhere"

# ---- part 1: kill and restart from the command line while the load runs -------------------
OUT1="$EDGEKV_HOME/out-load"
start_run "$HERE/rejoin-load.yaml" "$TOPO" "$OUT1"
sleep 2
kill -0 "$RUN_PID" 2>/dev/null || fail "edgekv run ended early: $(tail -20 "$OUT1.log")"
A_PID=$(field a pid)
B_PID=$(field b pid)
"$EKV" fault kill a >/dev/null || fail "fault kill a"
"$EKV" fault kill b >/dev/null || fail "fault kill b"
seq_kill=$(coord_seq)
for pid in "$A_PID" "$B_PID"; do
    for _ in $(seq 1 40); do
        gone "$pid" && break
        sleep 0.05
    done
    gone "$pid" || fail "process $pid survived fault kill"
done
for pop in "$A" "$B"; do
    code=$(curl -s -o /dev/null --max-time 2 -w '%{http_code}' "$pop/_edgekv/health") || true
    [ "$code" = 000 ] || fail "$pop still answers ($code) after fault kill"
done
status
[ "$(field a running)" = false ] && [ "$(field b running)" = false ] ||
    fail "status still shows a or b running after the kill"
pass "fault kill a, b: pids $A_PID and $B_PID gone, ports closed, status says not running"

sleep 4
seq_restart=$(coord_seq)
[ $((seq_restart - seq_kill)) -ge 100 ] ||
    fail "only $((seq_restart - seq_kill)) writes committed in the 4 s a and b were down"
pass "writes went on while a and b were down: seq $seq_kill -> $seq_restart"

t0=$(date +%s.%N)
"$EKV" fault restart a >/dev/null || fail "fault restart a"
a_ms=$(ms_since "$t0")
t1=$(date +%s.%N)
"$EKV" fault restart b >/dev/null || fail "fault restart b"
b_ms=$(ms_since "$t1")
for _ in $(seq 1 250); do
    b_seq=$(health "$B" applied_seq) || b_seq=0
    [ "$b_seq" -ge "$seq_restart" ] && break
    sleep 0.02
done
b_conv_ms=$(ms_since "$t1")
[ "$b_seq" -ge "$seq_restart" ] || fail "b at seq $b_seq of $seq_restart 5 s after its restart"
status
for name in a b; do
    [ "$(field $name running)" = true ] || fail "$name not running after the restart"
done
[ "$(field a pid)" != "$A_PID" ] && [ "$(field b pid)" != "$B_PID" ] || fail "restart kept the old pids"
[ "$(field a url)" = "$A" ] && [ "$(field b url)" = "$B" ] || fail "restart moved a or b to another URL"
[ "$(health "$A" policy)" = push ] && [ "$(health "$B" policy)" = push-all ] ||
    fail "restarted policies: a $(health "$A" policy), b $(health "$B" policy)"
[ "$(health "$A" ready)" = true ] && [ "$(health "$B" ready)" = true ] || fail "a or b not ready"
a_seq=$(health "$A" applied_seq)
[ "$a_seq" -ge "$seq_restart" ] || fail "a restarted at seq $a_seq, before the coordinator's $seq_restart"
pass "fault restart a (${a_ms} ms) and b (${b_ms} ms): same URLs, new pids, policies push and push-all;" \
    "a starts at seq $a_seq"
pass "b reloaded its replica to seq $b_seq (>= $seq_restart) ${b_conv_ms} ms after its restart began"

finish_run "$OUT1" 8
quiesce
pass "load over: every PoP at seq $LATEST"

# Every PoP against the coordinator: every key's status and version, and the values; sets WHY
# on the first difference.
agree() {
    local name url
    WHY=""
    snapshot "$API/values" "" | awk '{ print $1, $2, $3 }' >"$EDGEKV_HOME/coord.txt"
    values "$API/values" "" >"$EDGEKV_HOME/coord-values.txt"
    for name in w o a b; do
        url=$(field $name url)
        snapshot "$url" "?urlencoded=true" >"$EDGEKV_HOME/$name.txt"
        if ! awk '{ print $1, $2, $3 }' "$EDGEKV_HOME/$name.txt" | diff -q "$EDGEKV_HOME/coord.txt" - >/dev/null; then
            WHY="$name (key code version; < coordinator, > $name): $(awk '{ print $1, $2, $3 }' "$EDGEKV_HOME/$name.txt" | diff "$EDGEKV_HOME/coord.txt" - | head -6)"
            return 1
        fi
        if ! values "$url" "?urlencoded=true" | diff -q "$EDGEKV_HOME/coord-values.txt" - >/dev/null; then
            WHY="$name serves other values than the coordinator"
            return 1
        fi
    done
}
# A host starved of CPU for a second makes a PoP think the coordinator is gone (503) for a
# moment; a difference must persist over three rounds to count.
agree_rounds() {
    local attempt
    for attempt in 1 2 3; do
        agree && return 0
        echo "    round $attempt: $WHY"
        [ "$attempt" -lt 3 ] || fail "$1: $WHY"
        sleep 1
    done
}
agree_rounds "after the load"
b_hits=$(awk '$4 == "HIT"' "$EDGEKV_HOME/b.txt" | wc -l)
[ "$b_hits" = "$NKEYS" ] || fail "b's replica served only $b_hits of $NKEYS keys (HIT)"
pass "every PoP serves all $NKEYS keys at the coordinator's version and value; b all from its" \
    "replica (HIT)"

# a now caches every key (it was just asked for each). New values for all of them through
# the REST API must reach it as pushes: every key a HIT at the new version, no origin read.
put_keys "$EDGEKV_HOME/bulk2.json" "second bulk put" after
origin0=$(stat_of "$A" origin_reads)
quiesce
agree_rounds "after the second round of writes"
a_hits=$(awk '$4 == "HIT"' "$EDGEKV_HOME/a.txt" | wc -l)
origin=$(stat_of "$A" origin_reads)
grep -q ' after-' "$EDGEKV_HOME/coord-values.txt" || fail "the second round of values is not at the coordinator"
[ "$a_hits" = "$NKEYS" ] && [ "$origin" = "$origin0" ] ||
    fail "restarted a: $a_hits of $NKEYS rewritten keys HIT, origin reads $origin0 -> $origin" \
        "(want all HIT, no origin read: pushes keep what it caches current)"
pass "restarted a got all $NKEYS new values as pushes: HIT at the new version, no origin read"

"$EKV" verify >"$EDGEKV_HOME/verify1.txt" 2>&1 || fail "verify: $(cat "$EDGEKV_HOME/verify1.txt")"
sed 's/^/    /' "$EDGEKV_HOME/verify1.txt"
grep -Eq '^  b +push-all +replica of [0-9]+ keys, digest [0-9a-f]+: same$' "$EDGEKV_HOME/verify1.txt" ||
    fail "verify did not compare b's replica digest"
pass "verify: every PoP agrees, b's replica digest included"

RES="$OUT1/results.json"
pop_field() { jq -r --arg n "$1" ".runs[0].pops[] | select(.name == \$n) | .$2" "$RES"; }
writes=$(jq -r '.runs[0].writes' "$RES")
werr=$(jq -r '.runs[0].write_errors' "$RES")
echo "    writes $writes, write errors $werr; failed reads: w $(pop_field w failed_reads)," \
    "o $(pop_field o failed_reads), a $(pop_field a failed_reads), b $(pop_field b failed_reads)"
[ "$werr" = 0 ] && [ "$writes" -ge 700 ] || fail "results.json: $writes writes, $werr errors"
[ "$(pop_field w failed_reads)" = 0 ] && [ "$(pop_field o failed_reads)" = 0 ] ||
    fail "results.json: reads failed at w or o"
[ "$(pop_field a failed_reads)" -gt 0 ] && [ "$(pop_field b failed_reads)" -gt 0 ] ||
    fail "results.json: no read failed at a or b while they were down"
pass "results.json: $writes writes, none failed; reads failed only at the killed a and b"

# ---- part 2: kill and restart of b on an experiment's timeline ------------------------------
status
B_PID=$(field b pid)
OUT2="$EDGEKV_HOME/out-timeline"
run_experiment "$HERE/rejoin-timeline.yaml" "$TOPO" "$OUT2" 8
jq -r '.runs[0].faults[] | "    fault \(.action) \(.pop) at \(.at_s) s: applied \(.applied)"' "$OUT2/results.json"
jq -e '[.runs[0].faults[] | select(.applied)] | length == 2' "$OUT2/results.json" >/dev/null ||
    fail "timeline faults not applied: $(jq -c .runs[0].faults "$OUT2/results.json")"
gone "$B_PID" || fail "b's old process $B_PID still runs"
status
[ "$(field b running)" = true ] && [ "$(field b pid)" != "$B_PID" ] || fail "b not running again"
quiesce
"$EKV" verify >"$EDGEKV_HOME/verify2.txt" 2>&1 || fail "verify after the timeline: $(cat "$EDGEKV_HOME/verify2.txt")"
sed 's/^/    /' "$EDGEKV_HOME/verify2.txt"
pass "timeline kill and restart of b: applied, new pid, every PoP at seq $LATEST, verify agrees"

policy=$(health "$B" policy)
[ "$policy" = push-all ] ||
    fail "b came back from the timeline restart as '$policy', not push-all (the faults of a run" \
        "on a running topology restart PoPs without their per-PoP policy)"
grep -Eq '^  b +push-all +replica of [0-9]+ keys, digest [0-9a-f]+: same$' "$EDGEKV_HOME/verify2.txt" ||
    fail "verify did not compare b's replica digest after the timeline restart"
pass "b is still a push-all replica after the timeline restart"

echo "$PASSED passed, 0 failed"
