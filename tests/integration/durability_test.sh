#!/usr/bin/env bash
# An acknowledged write survives kill -9 of the coordinator, and the sequence has no gap.
#
# The coordinator runs with the default durability (fsync) and no same-key rate limit. Four
# writers PUT unique keys one at a time through the REST API, each recording "key value" in
# its own log only after a 200 with success true. After about 2 s the coordinator is killed
# with SIGKILL in the middle of that stream; the writers stop; a new coordinator opens the
# same data folder. Then every acknowledged key must read back with exactly its value, and
# since every committed change is the first and only write of a new key, the number of keys
# in the namespace must equal the latest sequence number (a lost or skipped sequence would
# show), which is at least the number of acknowledged writes (a write in flight at the kill
# may have committed without its reply). Three kill/restart cycles on the same folder.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
mkdir -p "$H/logs"
NS="/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces"
NS="$NS/00000000000000000000000000000000"
NWRITERS=4
CYCLES=3
COORD=""
WRITERS=""

# Stops the writers (they watch $H/stop, then by pid) and the coordinator (by pid).
stop_writers() {
    touch "$H/stop"
    # shellcheck disable=SC2086 # one pid a word
    reap_or_kill 100 $WRITERS
    WRITERS=""
    rm -f "$H/stop"
}
stop_coord() {
    [ -n "$COORD" ] || return 0
    kill "$COORD" 2>/dev/null || true
    for _ in $(seq 1 50); do
        gone "$COORD" && break
        sleep 0.1
    done
    kill -9 "$COORD" 2>/dev/null || true
    wait "$COORD" 2>/dev/null || true
    COORD=""
}
trap 'stop_writers; stop_coord; ekv_cleanup' EXIT

# Starts a coordinator on the one data folder; sets COORD and URL.
start_coord() {
    rm -f "$H/ready.json"
    "$BIN/edgekv-coordinator" --data "$H/db" --http 127.0.0.1:0 --pub 'tcp://127.0.0.1:*' \
        --router 'tcp://127.0.0.1:*' --ready-file "$H/ready.json" --write-rate-limit 0 \
        >>"$H/logs/coordinator.log" 2>&1 &
    COORD=$!
    for _ in $(seq 1 200); do
        [ -s "$H/ready.json" ] && break
        gone "$COORD" && fail "coordinator exited at start"
        sleep 0.05
    done
    [ -s "$H/ready.json" ] || fail "coordinator not ready after 10 s"
    URL=$(jq -r .http "$H/ready.json")
}

# writer CYCLE W URL: PUTs keys d<cycle><w><n> until $H/stop exists; logs acknowledged ones.
writer() {
    set +e
    local cycle=$1 w=$2 url=$3 i=0 key val out
    while [ ! -e "$H/stop" ]; do
        key=$(printf 'd%d%d%05d' "$cycle" "$w" "$i")
        val="v-$i-$RANDOM$RANDOM"
        i=$((i + 1))
        out=$(curl -s --max-time 5 -X PUT --data-binary "$val" -w '\n%{http_code}' \
            "$url$NS/values/$key")
        if [ "${out##*$'\n'}" = 200 ] && [[ ${out%$'\n'*} == *'"success":true'* ]]; then
            echo "$key $val" >>"$H/acked.$cycle.$w.log"
        else
            sleep 0.05 # the coordinator is gone: do not spin
        fi
    done
}

# Reads every acknowledged key back in bulk gets of 100 and compares the values.
check_acked() {
    cat "$H"/acked.*.log >"$H/acked.all"
    jq -R -c -n '[inputs | split(" ")] | _nwise(100) | {keys: map(.[0])}' "$H/acked.all" \
        >"$H/batches"
    : >"$H/got"
    while IFS= read -r batch; do
        curl -sf -X POST --data "$batch" "$URL$NS/bulk/get" >>"$H/got" || fail "bulk get"
        echo >>"$H/got"
    done <"$H/batches"
    jq -R -n '[inputs | split(" ") | {(.[0]): .[1]}] | add // {}' "$H/acked.all" >"$H/want"
    jq -s '[.[] | .result.values] | add // {}' "$H/got" >"$H/have"
    jq -e -n --slurpfile w "$H/want" --slurpfile h "$H/have" '$w[0] == $h[0]' >/dev/null || {
        jq -n -r --slurpfile w "$H/want" --slurpfile h "$H/have" \
            '$w[0] | to_entries[] | select($h[0][.key] != .value)
             | "\(.key): acked \(.value), read \($h[0][.key])"' | head -5 >&2
        fail "acknowledged writes lost after kill -9"
    }
}

# Counts the keys of the namespace by paging through the keys list.
count_keys() {
    local cursor="" n=0 page
    while :; do
        page=$(curl -sf "$URL$NS/keys?limit=1000&cursor=$cursor") || fail "keys list"
        n=$((n + $(jq '.result | length' <<<"$page")))
        cursor=$(jq -r '.result_info.cursor' <<<"$page")
        [ -n "$cursor" ] || break
    done
    echo "$n"
}

start_coord
total_acked=0
for cycle in $(seq 1 $CYCLES); do
    for w in $(seq 1 $NWRITERS); do
        writer "$cycle" "$w" "$URL" &
        WRITERS="$WRITERS $!"
    done
    sleep 2
    kill -9 "$COORD"
    wait "$COORD" 2>/dev/null || true
    gone "$COORD" || fail "coordinator survived kill -9"
    COORD=""
    stop_writers
    acked=$(cat "$H"/acked."$cycle".*.log 2>/dev/null | wc -l)
    [ "$acked" -gt 0 ] || fail "cycle $cycle: no write was acknowledged"
    total_acked=$((total_acked + acked))

    start_coord
    check_acked
    seq=$(curl -sf "$URL/health" | jq -r .seq)
    metrics_seq=$(curl -sf "$URL/metrics" | sed -n 's/^edgekv_latest_sequence //p')
    [ "$metrics_seq" = "$seq" ] || fail "metrics sequence $metrics_seq, health $seq"
    found=$(count_keys)
    [ "$seq" -ge "$total_acked" ] || fail "cycle $cycle: sequence $seq < $total_acked acked"
    [ "$found" = "$seq" ] ||
        fail "cycle $cycle: $found keys for sequence $seq (a change lost or a gap)"
    pass "cycle $cycle: $acked acked writes ($total_acked in all) survive kill -9;" \
        "$found keys = sequence $seq"
done

echo "$PASSED passed, 0 failed"
