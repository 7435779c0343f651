# shellcheck shell=bash
# Shared by the scenario tests (tests/scenarios/*_test.sh): lib.sh, experiment runs (`edgekv
# run`, stopped by ekv_cleanup should the test end first), a PoP's health and stats, every key
# of KEYS read at once, and the awk arithmetic the checks are written in.
# Usage: source scenario_lib.sh BIN_DIR SRC_DIR. Sets HERE (this folder: the scenarios'
# topologies and experiments) and NS (the default namespace).
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh" "$1" "$2"
# shellcheck disable=SC2034 # used by the tests
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck disable=SC2034
NS=00000000000000000000000000000000

health() { curl -sf --max-time 5 "$1/_edgekv/health" | jq -r ".$2"; }
stat_of() { curl -sf --max-time 5 "$1/stats" | jq -r ".$2"; }

# calc ARGS...: awk with the numbers as variables; prints its result.
calc() { awk "$@"; }
# holds A B CONDITION: true when the awk CONDITION of a and b (numbers) holds: holds 1 2 'a < b'.
holds() { awk -v a="$1" -v b="$2" "BEGIN { exit !($3) }"; }

# start_run EXPERIMENT TOPOLOGY OUT: `edgekv run` in the background (RUN_PID), output in OUT.log.
start_run() {
    "$EKV" run "$1" --topology "$2" --out "$3" >"$3.log" 2>&1 &
    RUN_PID=$!
}
# finish_run OUT [ROWS]: waits for it; fails with the end of its output unless it exited 0 with
# OUT/results.json. With ROWS, shows that many lines after its PoP table's head.
finish_run() {
    local rc=0
    wait "$RUN_PID" || rc=$?
    RUN_PID=""
    [ "$rc" = 0 ] && [ -f "$1/results.json" ] || fail "edgekv run (exit $rc): $(tail -20 "$1.log")"
    [ -z "${2:-}" ] || grep -A"$2" '^  POP' "$1.log" | sed 's/^/    /' || true
}
# run_experiment EXPERIMENT TOPOLOGY OUT [ROWS]: start_run and finish_run.
run_experiment() {
    start_run "$1" "$2" "$3"
    finish_run "$3" "${4:-}"
}

# put_keys FILE WHAT VALUE [EXTRA]: a REST bulk write ($API/bulk) of every key k0000000.. of
# NKEYS as VALUE-<i>, and the JSON array EXTRA of further entries; all must succeed.
put_keys() {
    local reply
    jq -nc --argjson n "$NKEYS" --arg v "$3" --argjson extra "${4:-[]}" \
        '[range($n) | {key: ("k" + (1e7 + . | tostring | .[1:])), value: "\($v)-\(.)"}] + $extra' \
        >"$1"
    reply=$(curl -s -X PUT -H 'Content-Type: application/json' --data-binary @"$1" \
        "$API/bulk") || fail "$2 failed"
    jq -e --argjson n "$(jq length "$1")" '.success and .result.successful_key_count == $n' \
        <<<"$reply" >/dev/null || fail "$2: $reply"
}

# snapshot BASE QUERY: every key of KEYS at BASE/KEY QUERY, lines "key code version
# cache-status", in key order.
snapshot() {
    local base=$1 query=$2 urls=() k
    for k in $KEYS; do
        urls+=(-o /dev/null "$base/$k$query")
    done
    curl -s --max-time 30 \
        -w '%{http_code} %header{x-edgekv-version} %header{cf-cache-status}\n' "${urls[@]}" |
        paste -d ' ' <(printf '%s\n' $KEYS) - || true
}
# values BASE QUERY: the same with the values: lines "key value code".
values() {
    local base=$1 query=$2 urls=() k
    for k in $KEYS; do
        urls+=("$base/$k$query")
    done
    curl -s --max-time 30 -w ' %{http_code}\n' "${urls[@]}" | paste -d ' ' <(printf '%s\n' $KEYS) - ||
        true
}
