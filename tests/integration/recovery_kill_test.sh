#!/usr/bin/env bash
# kill -9 of the coordinator during bulk writes, deletes, bulk deletes and namespace
# operations: after the restart every acknowledged operation is there and no unacknowledged
# one is half applied.
#
# Topology: a coordinator (fsync, no same-key limit) and one push-all PoP. Each cycle, four
# background clients drive the REST API and log every request's outcome ("acknowledged":
# 200 with success true) in $EDGEKV_HOME/ops.<cycle>.<client>.log:
#   two bulk writers  PUT /bulk of 1000 keys b<cycle>.<w>.<n>-<i>, every value "batch-<id>";
#   a deleter         for each acknowledged batch not yet touched, DELETE of keys -0 and -1
#                     and a bulk delete (POST /bulk/delete) of keys -100..-199;
#   a namespace client  create "t-<cycle>-<n>", a bulk write of 10000 keys into it (so that
#                     deleting it takes ten steps), rename to "t-<cycle>-<n>-r", and
#                     for odd n a delete of the namespace.
# Once each kind of request was acknowledged, and then 0 to 8 ms into a namespace deletion
# (the other clients are busy anyway), the coordinator's pid (from `edgekv status --json`)
# gets SIGKILL; the clients stop; `edgekv fault restart-coordinator` starts it on the same
# folder and ports; recovery_kill_check.py then checks the store against the logs (see
# there): acknowledged writes and deletes are in, each unacknowledged bulk request all or
# nothing, namespaces as acknowledged, a deleted namespace gone with its keys (also at the
# PoP). Then the PoP must catch up and `edgekv verify` must pass. Five cycles on the same
# folder.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
source "$(dirname "$0")/recovery_lib.sh"

H=$EDGEKV_HOME
CYCLES=5
CLIENTS=""

stop_clients() {
    touch "$H/stop"
    # shellcheck disable=SC2086 # one pid a word
    [ -z "$CLIENTS" ] || reap_or_kill 150 $CLIENTS
    CLIENTS=""
    rm -f "$H/stop"
}
trap 'stop_clients; ekv_cleanup' EXIT

ekv_topology "$H/topo.yaml" policy=push-all write_rate_limit=0 full:0:Madrid
up "$H/topo.yaml"
pass "coordinator and a push-all PoP up"

# Bodies are made from templates by replacing ID: 1000 keys ID-<i> with value batch-ID, and
# 10000 keys nk-<i> with value ns-ID; the bulk delete of keys ID-100..ID-199.
jq -nc '[range(1000) | {key: "ID-\(.)", value: "batch-ID"}]' >"$H/batch.tmpl"
jq -nc '[range(10000) | {key: "nk-\(.)", value: "ns-ID"}]' >"$H/nsbatch.tmpl"
jq -nc '[range(100; 200) | "ID-\(.)"]' >"$H/bdel.tmpl"

# call METHOD URL [BODY-FILE]: prints "CODE ACK" (ACK 1: 200 with success true) and leaves
# the reply in $REPLY_FILE.
call() {
    local code
    : >"$REPLY_FILE" # nothing stale survives a failed request
    if [ $# -ge 3 ]; then
        code=$(curl -s --max-time 5 -o "$REPLY_FILE" -w '%{http_code}' -X "$1" \
            -H 'Content-Type: application/json' --data-binary @"$3" "$2") || code=${code:-000}
    else
        code=$(curl -s --max-time 5 -o "$REPLY_FILE" -w '%{http_code}' -X "$1" "$2") ||
            code=${code:-000}
    fi
    if [ "$code" = 200 ] && jq -e .success "$REPLY_FILE" >/dev/null 2>&1; then
        echo "$code 1"
    else
        echo "$code 0"
    fi
}

# bulk_writer CYCLE W: bulk writes until $H/stop exists.
bulk_writer() {
    set +e
    local id n=0 out
    REPLY_FILE="$H/reply.$1.w$2"
    while [ ! -e "$H/stop" ] && [ $n -lt 500 ]; do
        id="b$1.$2.$n"
        n=$((n + 1))
        sed "s/ID/$id/g" "$H/batch.tmpl" >"$H/body.$1.w$2"
        out=$(call PUT "$C$API/$NS/bulk" "$H/body.$1.w$2")
        echo "bulk $id $out" >>"$H/ops.$1.w$2.log"
        [ "${out#* }" = 1 ] || sleep 0.05 # the coordinator is gone: do not spin
    done
}

# deleter CYCLE: deletes parts of acknowledged batches, each batch once.
deleter() {
    set +e
    local id i out acked cand done_ids=" " rounds=0
    REPLY_FILE="$H/reply.$1.d"
    while [ ! -e "$H/stop" ] && [ $rounds -lt 1000 ]; do
        rounds=$((rounds + 1))
        id=""
        acked=$(awk '$3 == 200 && $4 == 1 { print $2 }' "$H"/ops."$1".w*.log 2>/dev/null)
        for cand in $acked; do
            case "$done_ids" in *" $cand "*) continue ;; esac
            id=$cand
            break
        done
        if [ -z "$id" ]; then
            sleep 0.02
            continue
        fi
        done_ids="$done_ids$id "
        for i in 0 1; do
            out=$(call DELETE "$C$API/$NS/values/$id-$i")
            echo "del $id-$i $out" >>"$H/ops.$1.d.log"
        done
        sed "s/ID/$id/g" "$H/bdel.tmpl" >"$H/body.$1.d"
        out=$(call POST "$C$API/$NS/bulk/delete" "$H/body.$1.d")
        echo "bdel $id $out" >>"$H/ops.$1.d.log"
        [ "${out#* }" = 1 ] || sleep 0.05
    done
}

# ns_client CYCLE: namespace create, bulk write, rename, delete (odd n).
ns_client() {
    set +e
    local n=0 out id title
    REPLY_FILE="$H/reply.$1.n"
    while [ ! -e "$H/stop" ] && [ $n -lt 300 ]; do
        title="t-$1-$n"
        echo "{\"title\": \"$title\"}" >"$H/body.$1.n"
        out=$(call POST "$C$API" "$H/body.$1.n")
        id=$(jq -r '.result.id // "-"' "$REPLY_FILE" 2>/dev/null) || id=-
        echo "create $n $out $id" >>"$H/ops.$1.n.log"
        if [ "${out#* }" != 1 ]; then
            n=$((n + 1))
            sleep 0.05
            continue
        fi
        sed "s/ID/$n/g" "$H/nsbatch.tmpl" >"$H/body.$1.n"
        out=$(call PUT "$C$API/$id/bulk" "$H/body.$1.n")
        echo "nsbulk $n $out $id" >>"$H/ops.$1.n.log"
        echo "{\"title\": \"$title-r\"}" >"$H/body.$1.n"
        out=$(call PUT "$C$API/$id" "$H/body.$1.n")
        echo "rename $n $out $id" >>"$H/ops.$1.n.log"
        if [ $((n % 2)) = 1 ]; then
            touch "$H/nsdel.$1" # a namespace deletion in flight
            out=$(call DELETE "$C$API/$id")
            echo "nsdel $n $out $id" >>"$H/ops.$1.n.log"
            rm -f "$H/nsdel.$1"
        fi
        n=$((n + 1))
    done
}

# summary CONDITION FILE: " KIND COUNT" for the log lines meeting the awk condition.
summary() { awk "$1"' { n[$1]++ } END { for (k in n) printf " %s %d", k, n[k] }' "$2"; }

total_unacked=0
for cycle in $(seq 1 $CYCLES); do
    bulk_writer "$cycle" 1 &
    CLIENTS="$CLIENTS $!"
    bulk_writer "$cycle" 2 &
    CLIENTS="$CLIENTS $!"
    deleter "$cycle" &
    CLIENTS="$CLIENTS $!"
    ns_client "$cycle" &
    CLIENTS="$CLIENTS $!"
    # The kill comes once every kind of request has been acknowledged at least once (at
    # most 20 s of waiting).
    for _ in $(seq 1 200); do
        cat "$H"/ops."$cycle".*.log 2>/dev/null | awk '$4 == 1 { print $1 }' | sort -u |
            tr '\n' ' ' | grep -q '^bdel bulk create del nsbulk rename $' && break
        sleep 0.1
    done
    pid=$(jq -r .coordinator.pid <("$EKV" status --json))
    [ "$pid" = "$CPID" ] || fail "status --json names coordinator pid $pid, not $CPID"
    # Then it aims at a namespace deletion: 0 to 8 ms after one was sent.
    for _ in $(seq 1 2000); do
        [ -e "$H/nsdel.$cycle" ] && break
        sleep 0.002
    done
    sleep "0.00$(((cycle - 1) * 2))"
    kill -9 "$pid"
    for _ in $(seq 1 50); do
        gone "$pid" && break
        sleep 0.1
    done
    gone "$pid" || fail "the coordinator survived kill -9"
    stop_clients
    "$EKV" fault restart-coordinator >"$H/restart.out" 2>&1 ||
        fail "restart-coordinator: $(cat "$H/restart.out")"
    refresh_status

    cat "$H"/ops."$cycle".*.log >"$H/ops.$cycle.all"
    acked=$(awk '$4 == 1' "$H/ops.$cycle.all" | wc -l)
    unacked=$(awk '$4 != 1' "$H/ops.$cycle.all" | wc -l)
    # shellcheck disable=SC2016 # awk conditions
    echo "   cycle $cycle: $acked acknowledged ($(summary '$4 == 1' "$H/ops.$cycle.all") )," \
        "$unacked not ($(summary '$4 != 1' "$H/ops.$cycle.all") )"
    for kind in bulk del bdel create nsbulk rename; do
        grep -q "^$kind .* 200 1" "$H/ops.$cycle.all" ||
            fail "cycle $cycle: no $kind was acknowledged before the kill (too slow a machine?)"
    done
    total_unacked=$((total_unacked + unacked))
    # shellcheck disable=SC2154 # URL_full: set by up
    python3 "$(dirname "$0")/recovery_kill_check.py" "$C" "$URL_full" "$cycle" \
        "$H/ops.$cycle.all" >"$H/check.out" 2>&1 || {
        cat "$H/check.out" >&2
        fail "cycle $cycle: the store after kill -9 does not match the acknowledged operations"
    }
    pass "cycle $cycle: after kill -9, $(tail -1 "$H/check.out")"

    tip=$(coord_seq)
    wait_applied "$URL_full" "$tip" 100 || fail "cycle $cycle: the PoP did not catch up to $tip"
    verify_ok "after cycle $cycle"
    pass "cycle $cycle: the PoP caught up to seq $tip; edgekv verify passes"
done

# A kill between requests leaves nothing in flight; not in all five cycles.
[ "$total_unacked" -gt 0 ] ||
    fail "every request of $CYCLES cycles was acknowledged: no kill came mid-request"

expect_down "$H/status.json"

echo "$PASSED passed, 0 failed"
