#!/usr/bin/env bash
# 200 s of load with a fault every 10-20 s: no acknowledged write is lost, every PoP
# converges, and the memory of the processes stays flat.
#
# Topology (soak-topology.yaml, time_scale 1, ephemeral loopback ports, no same-key rate
# limit): push-all replicas fra (1 ms) and jfk (45 ms), push caches mad (15 ms) and syd
# (120 ms). Before the load the test writes each of the 8000 keys once and has every PoP read
# them all, so every process holds the whole data set from the start and keeps its size. The
# load (Python, standard library, keep-alive connections, paced threads) runs for 200 s:
# 150 writes/s through the coordinator's REST API (4 writers, 1000 keys each), 150 writes/s
# through the PoPs (10 writers per PoP, 100 keys each) and 50 reads/s of random keys at every
# PoP (10 readers each). Each writer goes round its own keys in order, so an attempt that
# failed at the client but commits later (its PoP was stopped with it in the socket; it was
# queued for a killed coordinator) can never land after a later write of its key. Every
# acknowledged write is recorded (key -> value), and every value attempted after a key's
# last acknowledged one.
# Faults: from 20 s to 185 s, one every 10-20 s, each held 3-6 s and then undone, drawn from
# a fixed seed (SEED below): PoP kill + restart, stop + continue, partition + heal, slow link
# (200/400/800 ms, then the configured delay again), coordinator kill -9 + restart; each kind
# at least once. Every `edgekv fault` command must succeed.
# Asserted after the load, once every PoP has applied the coordinator's latest sequence
# (within 30 s):
#   - the load acknowledged at least 150 writes/s on average, outages included (half the
#     300/s it aims at; ~270/s measured on a quiet 2-core machine);
#   - every PoP answered at least half of the reads scheduled there (7500) with 200;
#   - every key with an acknowledged write holds, at the coordinator, its last acknowledged
#     value, or a value attempted after it (a write whose reply was lost; counted apart);
#   - `edgekv verify` exits 0: push-all digests equal the coordinator's, push samples current;
#   - memory: the RSS of every process (pids from $EDGEKV_HOME/state.json, /proc/PID/status)
#     is sampled every 5 s; the baseline is the first sample after a 60 s warm-up, the end
#     sample is taken after quiescence; a process that lived through that whole window (same
#     pid) must not have grown by more than 10%. A process restarted by a fault has a new pid
#     and is reported (from its first sample 30 s after it appeared) but not judged. At least
#     two processes must be judged. (The coordinator's RocksDB memtables grow by about 300
#     bytes per write until the first flush at 64 MB per column family, so a coordinator that
#     lived through the window would show it; with this seed it is killed at 20, 56, 125 and
#     174 s; fra (restarted at 38 s), mad and syd are judged, over a window of about 145 s.)
# The length is what the whole test run's 25 minutes leave for it: 300 s of load judged the
# same things over a longer window (the schedule's kinds and the judged processes were checked
# for this seed at 185 s).
# Usage: bash soak_test.sh BIN_DIR SRC_DIR. About 4 minutes.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/scenario_lib.sh" "$1" "$2"
H=$EDGEKV_HOME

SEED=6
DURATION=200    # seconds of load
WARMUP=60       # the memory baseline is taken after this
FIRST_FAULT=20
LAST_FAULT=185
MIN_WRITE_RATE=150

LOAD_PID=""
SAMPLER_PID=""
TAIL_PID=""
STOPPED="" # the pid of a PoP this test stopped, until it continues

soak_cleanup() {
    local pid
    for pid in $LOAD_PID $SAMPLER_PID $TAIL_PID; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    [ -z "$STOPPED" ] || kill -CONT "$STOPPED" 2>/dev/null || true
    ekv_cleanup
}
trap soak_cleanup EXIT
trap 'exit 130' INT TERM

elapsed() { awk -v a="$T0" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }'; }
# Sleeps until $1 seconds after the load began.
sleep_until() {
    local left
    left=$(awk -v t="$T0" -v d="$1" -v now="$(date +%s.%N)" 'BEGIN { x = t + d - now; print (x > 0 ? x : 0) }')
    sleep "$left"
}
ekv_fault() { "$EKV" fault "$@" </dev/null >>"$H/faults.out" 2>&1 || fail "edgekv fault $* failed at $(elapsed) s: $(tail -3 "$H/faults.out")"; }
pop_pid() { jq -r --arg n "$1" '.pops[] | select(.name == $n) | .pid' "$H/state.json"; }

# One round of RSS samples: "ROUND T NAME PID RSS_KB" for every recorded process alive.
sample_rss() {
    local round=$1 t name pid rss
    t=$(elapsed)
    jq -r '"coordinator \(.coordinator.pid)", (.pops[] | "\(.name) \(.pid)")' "$H/state.json" \
        2>/dev/null | while read -r name pid; do
        rss=$(awk '/^VmRSS:/ { print $2 }' "/proc/$pid/status" 2>/dev/null) || continue
        [ -n "$rss" ] && echo "$round $t $name $pid $rss"
    done >>"$H/rss.txt" || true
}
sampler() {
    local round=0
    while [ ! -e "$H/stop-sampler" ]; do
        round=$((round + 1))
        sample_rss "$round"
        sleep 5
    done
}

# ---- up ---------------------------------------------------------------------------------------
"$EKV" up "$HERE/soak-topology.yaml" >"$H/up.out" 2>&1 || fail "up: $(cat "$H/up.out")"
"$EKV" status --json >"$H/status.json"
C=$(jq -r .coordinator.url "$H/status.json")
POPS=$(jq -c '[.pops[] | {(.name): .url}] | add' "$H/status.json")
[ "$(jq 'length' <<<"$POPS")" = 4 ] || fail "status: $(cat "$H/status.json")"
pass "topology up: fra, jfk push-all; mad, syd push"

python3 "$HERE/soak_load.py" schedule "$(jq -nc --argjson s $SEED --argjson f $FIRST_FAULT \
    --argjson l $LAST_FAULT --argjson p "$POPS" \
    '{seed: $s, first: $f, last: $l, gap_min: 10, gap_max: 20, hold_min: 3, hold_max: 6, pops: $p}')" \
    >"$H/schedule.txt" || fail "fault schedule"
echo "    fault schedule (seed $SEED): at_s kind target hold_s arg"
sed 's/^/      /' "$H/schedule.txt"
for kind in kill stop partition slow coordinator; do
    grep -q " $kind " "$H/schedule.txt" || fail "the schedule has no $kind fault"
done

# ---- every key written once and held everywhere ------------------------------------------------
mkdir -p "$H/load"
ARGS=$(jq -nc --arg c "$C" --argjson p "$POPS" --argjson d $DURATION --argjson s $SEED \
    --arg o "$H/load" \
    '{coord: $c, pops: $p, duration: $d, seed: $s, out: $o, rest_threads: 4, rest_rate: 150,
      rest_keys: 1000, pop_threads: 10, pop_rate: 150, pop_keys: 100, read_threads: 10,
      read_rate: 50}')
python3 "$HERE/soak_load.py" prime "$ARGS" >"$H/prime.out" 2>&1 || fail "prime: $(cat "$H/prime.out")"
cat "$H/prime.out"
pass "every key written once; every PoP holds all of them"

# ---- load, faults, memory samples ----------------------------------------------------------
T0=$(date +%s.%N)
python3 "$HERE/soak_load.py" load "$ARGS" >"$H/load.out" 2>&1 &
LOAD_PID=$!
sampler &
SAMPLER_PID=$!
tail -f "$H/load.out" --pid "$LOAD_PID" 2>/dev/null &
TAIL_PID=$!

nfaults=0
while read -r at kind target hold arg; do
    sleep_until "$at"
    kill -0 "$LOAD_PID" 2>/dev/null || fail "the load ended early: $(tail -5 "$H/load.out")"
    case $kind in
    kill)
        ekv_fault kill "$target"
        sleep "$hold"
        ekv_fault restart "$target"
        ;;
    stop)
        STOPPED=$(pop_pid "$target")
        ekv_fault stop "$target"
        sleep "$hold"
        ekv_fault continue "$target"
        STOPPED=""
        ;;
    partition)
        ekv_fault partition "$target"
        sleep "$hold"
        ekv_fault heal "$target"
        ;;
    slow)
        delay=$(jq -r --arg n "$target" '.pops[] | select(.name == $n) | .delay_ms' "$H/status.json")
        ekv_fault slow "$target" "$arg"
        sleep "$hold"
        ekv_fault slow "$target" "$delay"
        ;;
    coordinator)
        ekv_fault kill-coordinator
        sleep "$hold"
        ekv_fault restart-coordinator
        ;;
    esac
    nfaults=$((nfaults + 1))
    echo "    $(elapsed) s: $kind $target ${arg/#0/} held ${hold} s, undone"
done <"$H/schedule.txt"
pass "$nfaults faults injected and undone, every edgekv fault command succeeded"

rc=0
wait "$LOAD_PID" || rc=$?
LOAD_PID=""
kill "$TAIL_PID" 2>/dev/null || true
wait "$TAIL_PID" 2>/dev/null || true
[ "$rc" = 0 ] || fail "the load failed ($rc): $(tail -5 "$H/load.out")"
L="$H/load/load.json"
writes=$(jq '.rest_write_ok + .pop_write_ok' "$L")
secs=$(jq .seconds "$L")
rate=$(awk -v w="$writes" -v s="$secs" 'BEGIN { printf "%.0f", w / s }')
[ "$rate" -ge "$MIN_WRITE_RATE" ] ||
    fail "only $writes writes acknowledged in $secs s ($rate/s, want >= $MIN_WRITE_RATE/s)"
pass "load: $writes writes acknowledged in $secs s ($rate/s: $(jq .rest_write_ok "$L") REST," \
    "$(jq .pop_write_ok "$L") through PoPs)"
for name in $(jq -r 'keys[]' <<<"$POPS"); do
    ok=$(jq --arg n "$name" '.["read_\($n)_200"] // 0' "$L")
    [ "$ok" -ge $((50 * DURATION / 2)) ] ||
        fail "$name answered only $ok reads with 200 (want >= $((50 * DURATION / 2)))"
done
pass "every PoP answered >= $((50 * DURATION / 2)) reads with 200:" \
    "$(jq -r '[to_entries[] | select(.key | test("^read_[a-z]+_200$")) | "\(.key | .[5:-4]) \(.value)"] | join(", ")' "$L")"

# ---- quiescence, acknowledged writes, convergence ------------------------------------------
"$EKV" status --json >"$H/status.json"
latest=$(curl -sf --max-time 5 "$C/health" | jq -r .seq) || fail "the coordinator does not answer"
t_q=$(date +%s.%N)
for name in $(jq -r 'keys[]' <<<"$POPS"); do
    url=$(jq -r --arg n "$name" '.[$n]' <<<"$POPS")
    poll_applied "$url" "$latest" 300 && [ "$APPLIED" = "$latest" ] ||
        fail "$name at seq $APPLIED of $latest 30 s after the load"
done
pass "every PoP at the coordinator's sequence $latest within" \
    "$(awk -v a="$t_q" -v b="$(date +%s.%N)" 'BEGIN { printf "%.1f", b - a }') s"

python3 "$HERE/soak_load.py" check "$ARGS" >"$H/check.out" 2>&1 ||
    fail "acknowledged writes: $(cat "$H/check.out")"
cat "$H/check.out"
pass "every acknowledged write is at the coordinator:" \
    "$(jq -r '"\(.exact) keys hold their last acknowledged value, \(.later) a later failed attempt"' "$H/load/check.json")"

"$EKV" verify >"$H/verify.txt" 2>&1 || fail "verify: $(cat "$H/verify.txt")"
sed 's/^/    /' "$H/verify.txt"
pass "verify: every PoP agrees with the coordinator"

# ---- memory ------------------------------------------------------------------------------------
touch "$H/stop-sampler"
wait "$SAMPLER_PID" 2>/dev/null || true
SAMPLER_PID=""
sample_rss final
# Baseline: the first round at or after the warm-up; judged: the pids of that round still
# running at the end. Pids that appear later (restarts) are reported from their first sample
# 30 s after they appeared.
awk -v warm="$WARMUP" '
    { name[$4] = $3 }
    $1 == "final" { fin[$4] = $5; tfin = $2; next }
    {
        if (!($4 in first)) first[$4] = $2
        if (base_round == "" && $2 >= warm) base_round = $1
        if ($1 == base_round) { base[$4] = $5; tb[$4] = $2 }
        if (!($4 in late) && $2 >= first[$4] + 30) { late[$4] = $5; tl[$4] = $2 }
    }
    END {
        judged = 0; bad = 0
        for (p in base) {
            if (!(p in fin)) {
                printf "    %-12s pid %-7s %7d kB at %5.1f s, restarted before the end\n", name[p], p, base[p], tb[p]
                continue
            }
            g = (fin[p] - base[p]) / base[p] * 100
            judged++
            if (g > 10) bad++
            printf "    %-12s pid %-7s %7d kB at %5.1f s -> %7d kB at %5.1f s: %+6.1f%%%s\n", name[p], p, base[p], tb[p], fin[p], tfin, g, (g > 10 ? "  TOO MUCH" : "")
        }
        for (p in late) {
            if ((p in base) || !(p in fin)) continue
            printf "    %-12s pid %-7s %7d kB at %5.1f s -> %7d kB at %5.1f s: %+6.1f%% (started at %.1f s: not judged)\n", name[p], p, late[p], tl[p], fin[p], tfin, (fin[p] - late[p]) / late[p] * 100, first[p]
        }
        printf "JUDGED %d BAD %d\n", judged, bad
    }' "$H/rss.txt" >"$H/rss-report.txt"
grep -v '^JUDGED' "$H/rss-report.txt"
read -r _ judged _ bad < <(grep '^JUDGED' "$H/rss-report.txt")
[ "$judged" -ge 2 ] || fail "only $judged processes lived through the whole measured window"
[ "$bad" = 0 ] || fail "$bad processes grew by more than 10% between ${WARMUP} s and the end"
pass "memory: $judged processes lived from ${WARMUP} s to the end, none grew by more than 10%"

echo "$PASSED passed, 0 failed"
