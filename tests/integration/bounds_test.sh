#!/usr/bin/env bash
# The coordinator bounds what a peer can make it hold, and answers "busy" rather than grow:
#   1. a ROUTER frame larger than any valid request disconnects its sender before it is
#      buffered (it is never received, so never counted as malformed), and the coordinator
#      goes on answering;
#   2. with the commit queue bounded (--max-queued 1), a burst of writes through a PoP gets
#      some 503 "Coordinator busy" and the rest 200, every acknowledged write is readable, and
#      writing goes on normally afterwards;
#   3. with catch-up replies paced (--catchup-rate), a PoP that missed thousands of changes is
#      told "busy" and asks again until it has them all (nothing lost, verify passes);
#   4. the digest of a large store (400,000 keys) is walked a page per loop turn: the
#      coordinator answers other requests meanwhile, each within a fraction of the walk (it
#      used to hold its loop for the whole walk, a second or more, long enough for PoPs to
#      count it down).
# Usage: bounds_test.sh BIN_DIR SRC_DIR INJECT
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
source "$(dirname "$0")/recovery_lib.sh"
INJECT=$3

ekv_topology "$EDGEKV_HOME/topo.yaml" write_rate_limit=0 fra:0 'full:0:Madrid,policy: push-all'


# ---- 1. an oversized frame ------------------------------------------------------------------
coordinator_args --max-queued 1 --catchup-rate 65536
up "$EDGEKV_HOME/topo.yaml"
# shellcheck disable=SC2154 # set by up
FRA=$URL_fra FULL=$URL_full
ROUTER=$(jq -r .router "$EDGEKV_HOME/state.json")
M=edgekv_malformed_messages_total
before=$(metric "$C" $M)
[ -n "$before" ] || fail "no $M in the coordinator's /metrics"
"$INJECT" oversized "$ROUTER" >"$EDGEKV_HOME/oversized.out" 2>&1 ||
    fail "wire_inject oversized: $(cat "$EDGEKV_HOME/oversized.out")"
after=$(metric "$C" $M)
[ "$after" = "$before" ] ||
    fail "the oversized frame was received and decoded ($M $before -> $after): not refused"
gone "$CPID" && fail "coordinator died"
rss=$(awk '/^VmHWM/ { print $2 }' "/proc/$CPID/status")
pass "a frame over the largest request is refused unread ($M stays $after, peak RSS ${rss} kB)"

# ---- 2. a bounded commit queue ------------------------------------------------------------------
# One curl sends the 96 writes at once (-Z: its transfers in parallel, no process per write),
# so they reach the coordinator while one waits for its commit. On a busy machine a burst can
# still trickle in slowly enough to commit one by one; then it is tried again with new keys,
# up to three times: one burst that overflows the queue shows the bound.
for try in 1 2 3; do
    for i in $(seq 1 96); do # one transfer each, `next` between them (none after the last)
        [ "$i" = 1 ] || echo next
        printf 'url = "%s/burst%s-%s?urlencoded=true"\nrequest = PUT\ndata-binary = "v%s-%s"\n' \
            "$FRA" "$try" "$i" "$try" "$i"
        printf 'output = /dev/null\nmax-time = 20\nwrite-out = "%s-%s %%{http_code}\\n"\n' \
            "$try" "$i"
    done >"$EDGEKV_HOME/burst.cfg"
    curl -s -Z --parallel-max 96 -K "$EDGEKV_HOME/burst.cfg" >"$EDGEKV_HOME/burst.out" || true
    busy=$(awk '$2 == 503' "$EDGEKV_HOME/burst.out" | wc -l)
    [ "$busy" -gt 0 ] && break
done
ok=$(awk '$2 == 200' "$EDGEKV_HOME/burst.out" | wc -l)
other=$(awk '$2 != 200 && $2 != 503' "$EDGEKV_HOME/burst.out" | wc -l)
[ "$(wc -l <"$EDGEKV_HOME/burst.out")" = 96 ] || fail "burst: $(wc -l <"$EDGEKV_HOME/burst.out") answers of 96"
[ "$other" = 0 ] || fail "burst: statuses other than 200 and 503: $(awk '$2 != 200 && $2 != 503' \
    "$EDGEKV_HOME/burst.out" | head -3 | tr '\n' ' ')"
[ "$busy" -gt 0 ] || fail "three bursts of 96 writes with --max-queued 1: none was refused as busy"
[ "$ok" -gt 0 ] || fail "burst: no write was accepted"
for i in $(awk '$2 == 200 { print $1 }' "$EDGEKV_HOME/burst.out"); do
    got=$(curl -s --max-time 5 "$FRA/burst$i?urlencoded=true")
    [ "$got" = "v$i" ] || fail "acknowledged burst$i reads '$got'"
done
pass "a burst with --max-queued 1: $ok acknowledged (all readable), $busy refused with 503 busy"
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary after "$FRA/after-burst")
[ "$code" = 200 ] || fail "a write after the burst: $code"
pass "writes go on after the burst"

# ---- 3. paced catch-up ----------------------------------------------------------------------------
"$EKV" fault partition full >/dev/null || fail "partition full"
json_kv() {
    jq -nc --arg p "$1" --argjson a "$2" --argjson b "$3" \
        '[range($a; $b + 1) | {key: "\($p)\(.)", value: ("x" * 100)}]'
}
for b in 0 1 2 3 4 5; do
    json_kv "paced$b-" 1 1000 >"$EDGEKV_HOME/bulk$b.json"
    bulk_put "$EDGEKV_HOME/bulk$b.json"
done
tip=$(coord_seq)
"$EKV" fault heal full >/dev/null || fail "heal full"
wait_applied "$FULL" "$tip" 600 || fail "the partitioned PoP did not catch up to $tip"
busy=$(curl -sf "$FULL/_edgekv/stats" | jq -r .replica.catchups_busy)
[ "$busy" -gt 0 ] || fail "catch-up of 6000 changes at 64 KiB/s was never told busy"
verify_ok "after the paced catch-up"
pass "6000 missed changes caught up at 64 KiB/s ($busy busy replies asked again), verify equal"

# ---- 4. the digest in steps ---------------------------------------------------------------------
for b in $(seq 0 39); do
    jq -nc --argjson b "$b" '[range(0; 10000) | {key: "d\($b)-\(.)", value: "v"}]' \
        >"$EDGEKV_HOME/d.json"
    bulk_put "$EDGEKV_HOME/d.json"
done
t0=$(date +%s%N)
curl -s --max-time 60 "$C/_edgekv/digest" >"$EDGEKV_HOME/digest.json" &
dpid=$!
sleep 0.05
worst=0
while kill -0 "$dpid" 2>/dev/null; do
    h0=$(date +%s%N)
    curl -sf --max-time 10 -o /dev/null "$C/health" || fail "/health during the digest"
    ms=$((($(date +%s%N) - h0) / 1000000))
    [ "$ms" -gt "$worst" ] && worst=$ms
done
wait "$dpid"
total=$((($(date +%s%N) - t0) / 1000000))
entries=$(jq -r .entries "$EDGEKV_HOME/digest.json")
[ "$entries" -ge 400000 ] || fail "digest counted $entries entries"
[ $((worst * 2)) -lt "$total" ] ||
    fail "/health took $worst ms during a digest of $total ms: the loop was held"
pass "a digest of $entries entries took $total ms; /health answered within $worst ms meanwhile"

gone "$CPID" && fail "coordinator died"
echo "$PASSED passed, 0 failed"
