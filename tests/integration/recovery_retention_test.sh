#!/usr/bin/env bash
# A PoP that falls behind the change log's retention while keys it holds are deleted and
# rewritten: after catch-up (by snapshot, the log no longer reaches back) `edgekv verify`
# finds it equal to the coordinator and the deleted keys read 404 there.
#
# Topology: a coordinator keeping 20 change-log entries (trimmed every 100 ms), a push-all
# PoP `full` (a full replica) and a push PoP `cached` that holds the keys it read. Both are
# partitioned; k0..k49 are bulk-deleted, k50..k99 rewritten, k100..k109 deleted one by one,
# and 300 more writes push all of that out of the log. After the heal both must converge:
# the verify digest (full) and sample (cached) match, every deleted key is 404 at both, every
# rewritten key has its new value. Two rounds, the second on the PoPs the first left behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
source "$(dirname "$0")/recovery_lib.sh"

LOG_KEEP=20
coordinator_args --log-keep $LOG_KEEP --sweep-ms 100

ekv_topology "$EDGEKV_HOME/topo.yaml" write_rate_limit=0 'full:0:Madrid,policy: push-all' \
    cached:0:Paris
up "$EDGEKV_HOME/topo.yaml"
# shellcheck disable=SC2154 # set by up
FULL=$URL_full CACHED=$URL_cached
pass "coordinator (log-keep $LOG_KEEP) with a push-all and a push PoP up"

# json_kv PREFIX FROM TO TAG: a bulk write body, values TAG-<i>.
json_kv() {
    jq -nc --arg p "$1" --argjson a "$2" --argjson b "$3" --arg t "$4" \
        '[range($a; $b + 1) | {key: "\($p)\(.)", value: "\($t)-\(.)"}]'
}
json_keys() {
    jq -nc --arg p "$1" --argjson a "$2" --argjson b "$3" '[range($a; $b + 1) | "\($p)\(.)"]'
}

for round in 1 2; do
    r="r$round-"
    json_kv "${r}k" 0 199 v1 >"$EDGEKV_HOME/v1.json"
    bulk_put "$EDGEKV_HOME/v1.json"
    tip=$(coord_seq)
    wait_applied "$FULL" "$tip" 50 || fail "round $round: full did not apply the first writes"
    wait_applied "$CACHED" "$tip" 50 || fail "round $round: cached did not apply the first writes"
    # cached holds what it reads; full holds everything.
    expect "$CACHED" "${r}k" 0 199 v1 "round $round before the partition"
    expect "$FULL" "${r}k" 0 199 v1 "round $round before the partition"
    before=$(coord_seq)

    "$EKV" fault partition full >/dev/null || fail "partition full"
    "$EKV" fault partition cached >/dev/null || fail "partition cached"
    json_keys "${r}k" 0 49 >"$EDGEKV_HOME/del.json"
    bulk_delete "$EDGEKV_HOME/del.json"
    json_kv "${r}k" 50 99 v2 >"$EDGEKV_HOME/v2.json"
    bulk_put "$EDGEKV_HOME/v2.json"
    for i in $(seq 100 109); do
        rest DELETE "/$NS/values/${r}k$i"
        [ "$CODE" = 200 ] || fail "delete ${r}k$i: $CODE $BODY"
    done
    json_kv "${r}f" 0 299 filler >"$EDGEKV_HOME/filler.json"
    bulk_put "$EDGEKV_HOME/filler.json"
    tip=$(coord_seq)
    # Wait for the trim: the log must no longer reach back to where the PoPs stopped.
    entries=""
    for _ in $(seq 1 50); do
        entries=$(curl -sf "$C/metrics" | sed -n 's/^edgekv_change_log_entries //p')
        [ "$entries" -le $LOG_KEEP ] && break
        sleep 0.1
    done
    [ "$entries" -le $LOG_KEEP ] || fail "round $round: the change log still holds $entries entries"
    [ $((tip - entries)) -gt $((before + 1)) ] ||
        fail "round $round: log of $entries entries at seq $tip still reaches seq $before"
    pass "round $round: partitioned at seq $before; deletes, rewrites and 300 writes to seq" \
        "$tip; the log keeps only $entries entries"

    "$EKV" fault heal full >/dev/null || fail "heal full"
    "$EKV" fault heal cached >/dev/null || fail "heal cached"
    wait_applied "$FULL" "$tip" 100 || fail "round $round: full did not catch up within 10 s"
    wait_applied "$CACHED" "$tip" 100 || fail "round $round: cached did not catch up within 10 s"
    pass "round $round: both PoPs caught up to seq $tip after the heal"

    verify_ok "round $round"
    pass "round $round: edgekv verify finds both PoPs equal to the coordinator"

    for pop in "$FULL" "$CACHED"; do
        expect "$pop" "${r}k" 0 49 - "round $round bulk-deleted"
        expect "$pop" "${r}k" 50 99 v2 "round $round rewritten"
        expect "$pop" "${r}k" 100 109 - "round $round deleted"
        expect "$pop" "${r}k" 110 199 v1 "round $round untouched"
    done
    expect "$FULL" "${r}f" 0 299 filler "round $round filler"
    pass "round $round: deleted keys read 404 at both PoPs, rewritten ones their new value"
done

expect_down "$EDGEKV_HOME/status.json"

echo "$PASSED passed, 0 failed"
