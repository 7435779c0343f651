#!/usr/bin/env bash
# The coordinator restarted on an empty data folder: every PoP resynchronises.
#
# Topology: a coordinator and three PoPs, `full` (push-all), `cached` (push) and `inv`
# (invalidate), all holding k-0..k-99 (sequences 1..100, read at each PoP). The coordinator
# is killed (SIGKILL), its folder removed, and it starts again on the same ports, empty: its
# sequence starts over. Then k-0..k-49 are written anew (sequences 1..50 again, at or below
# what the PoPs applied), n-0..n-19 are new keys, and one key is written through a PoP. Every
# PoP must serve the new values, the new keys, and 404 for k-50..k-99 (gone with the store),
# and `edgekv verify` must pass.
# Second part: the coordinator runs with durability none and is killed with SIGKILL on its
# folder, so its recent commits may be lost and their numbers reused; after the restart and
# new writes every PoP must read exactly what the coordinator reads, and verify must pass.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
source "$(dirname "$0")/recovery_lib.sh"

ekv_topology "$EDGEKV_HOME/topo.yaml" write_rate_limit=0 'full:0:Madrid,policy: push-all' \
    cached:0:Paris 'inv:0:London,policy: invalidate'
up "$EDGEKV_HOME/topo.yaml"
# shellcheck disable=SC2154 # set by up
POPS="$URL_full $URL_cached $URL_inv"
pass "coordinator and PoPs full (push-all), cached (push), inv (invalidate) up"

json_kv() {
    jq -nc --arg p "$1" --argjson a "$2" --argjson b "$3" --arg t "$4" \
        '[range($a; $b + 1) | {key: "\($p)\(.)", value: "\($t)-\(.)"}]'
}

# kill_coordinator: kill -9 (waits until it is gone); restart_coordinator: `edgekv fault
# restart-coordinator`, on the same ports.
kill_coordinator() {
    local pid=$CPID
    "$EKV" fault kill-coordinator >/dev/null || fail "kill-coordinator"
    for _ in $(seq 1 50); do
        gone "$pid" && break
        sleep 0.1
    done
    gone "$pid" || fail "the coordinator ($pid) survived kill -9"
}
restart_coordinator() {
    "$EKV" fault restart-coordinator >"$EDGEKV_HOME/restart.out" 2>&1 ||
        fail "restart-coordinator: $(cat "$EDGEKV_HOME/restart.out")"
    refresh_status
}

# converge CHECK...: runs the check (a command) until it passes, at most 10 s; then once
# more, failing with its message.
converge() {
    for _ in $(seq 1 50); do
        ("$@") >/dev/null 2>&1 && return 0
        sleep 0.2
    done
    "$@"
}

# ---- wiped folder ------------------------------------------------------------------------
json_kv k- 0 99 old >"$EDGEKV_HOME/old.json"
bulk_put "$EDGEKV_HOME/old.json"
old_tip=$(coord_seq)
[ "$old_tip" = 100 ] || fail "sequence $old_tip after 100 writes to an empty store"
for pop in $POPS; do
    wait_applied "$pop" "$old_tip" 50 || fail "$pop did not apply the first writes"
    expect "$pop" k- 0 99 old "before the wipe" # cached at every PoP from here on
done
pass "k-0..k-99 (seq 1..100) held by every PoP"

kill_coordinator
rm -rf "$EDGEKV_HOME/coordinator-db"
restart_coordinator
[ "$(coord_seq)" = 0 ] || fail "the restarted coordinator has sequence $(coord_seq), not 0"
pass "coordinator killed, its folder removed, restarted empty on the same ports"

json_kv k- 0 49 new >"$EDGEKV_HOME/new.json"
bulk_put "$EDGEKV_HOME/new.json"
json_kv n- 0 19 fresh >"$EDGEKV_HOME/fresh.json"
bulk_put "$EDGEKV_HOME/fresh.json"
# shellcheck disable=SC2154 # set by up
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary via-pop-0 \
    "$URL_cached/p-0?urlencoded=true")
[ "$code" = 200 ] || fail "write through cached after the wipe: $code"
tip=$(coord_seq)
[ "$tip" = 71 ] || fail "sequence $tip after 71 writes to the wiped store"

pop_converged() {
    expect "$1" k- 0 49 new "$1 after the wipe, rewritten (seq 1..50 again)" &&
        expect "$1" k- 50 99 - "$1 after the wipe, gone with the store" &&
        expect "$1" n- 0 19 fresh "$1 after the wipe, new keys" &&
        expect "$1" p- 0 0 via-pop "$1 after the wipe, written through a PoP"
}
for pop in $POPS; do
    converge pop_converged "$pop"
done
pass "every PoP serves the 71 new writes and 404 for the 50 keys the wipe removed"
verify_ok "after the wipe"
pass "edgekv verify: every PoP equal to the wiped coordinator"

# ---- durability none, kill -9 --------------------------------------------------------------
coordinator_args --durability none
kill_coordinator
restart_coordinator # now under durability none, on the same folder
json_kv d- 0 199 none >"$EDGEKV_HOME/none.json"
bulk_put "$EDGEKV_HOME/none.json"
json_kv k- 0 9 none2 >"$EDGEKV_HOME/none2.json"
bulk_put "$EDGEKV_HOME/none2.json"
tip=$(coord_seq)
for pop in $POPS; do
    wait_applied "$pop" "$tip" 50 || fail "$pop did not apply the writes under durability none"
    expect "$pop" d- 0 199 none "durability none, before the kill"
    expect "$pop" k- 0 9 none2 "durability none, before the kill"
done
pass "200 keys and 10 rewrites under durability none (seq $tip) held by every PoP"

kill_coordinator
coordinator_args
restart_coordinator
after=$(coord_seq)
echo "   durability none: seq $tip before kill -9, $after after the restart"
json_kv a- 0 29 after >"$EDGEKV_HOME/after.json"
bulk_put "$EDGEKV_HOME/after.json"
json_kv d- 0 4 later >"$EDGEKV_HOME/later.json"
bulk_put "$EDGEKV_HOME/later.json"

# Each PoP reads what the coordinator reads, key for key.
same_as_coordinator() {
    local p from to want got
    for p in "k- 0 99" "n- 0 19" "p- 0 0" "d- 0 199" "a- 0 29"; do
        read -r pre from to <<<"$p"
        want=$(coord_reads "$pre" "$from" "$to")
        got=$(pop_reads "$1" "$pre" "$from" "$to")
        [ "$got" = "$want" ] || {
            echo "$1 differs from the coordinator on $pre$from..$pre$to:" \
                "$(diff <(echo "$want") <(echo "$got") | grep '^[<>]' | head -6 | tr '\n' ' ')"
            return 1
        }
    done
}
for pop in $POPS; do
    converge same_as_coordinator "$pop" || fail "after kill -9 under durability none"
done
expect "$URL_full" a- 0 29 after "after the restart"
pass "every PoP reads what the coordinator reads after kill -9 under durability none"
verify_ok "after kill -9 under durability none"
pass "edgekv verify: every PoP equal to the coordinator"

expect_down "$EDGEKV_HOME/status.json"

echo "$PASSED passed, 0 failed"
