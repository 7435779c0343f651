#!/usr/bin/env bash
# How both daemons start (node/main.c, coordinator/main.c): their options and limits.
#   - Options are read from one table: a bad value, an unknown option or a missing value ends
#     the daemon with status 2 and a message naming the option; --help lists every option.
#   - Started with a soft open-file limit of 1024 (as distributions do) under a higher hard
#     limit, each daemon raises its soft limit to the hard one at start, logs what it set,
#     and keeps the default cap of 4096 HTTP connections (1024 would lower it to 723). Skipped
#     when this machine's hard limit is too low to tell (below 5000).
#   - --verbose makes each daemon log debug lines (its effective options first, the API token
#     hidden).
# Every process is stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
mkdir -p "$H/logs"



# refused WHAT EXPECTED-MESSAGE PROGRAM ARGS...: the program exits 2 saying EXPECTED-MESSAGE.
refused() {
    local what=$1 want=$2 rc=0
    shift 2
    "$@" >"$H/out" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "$what: status $rc: $(cat "$H/out")"
    grep -qF -- "$want" "$H/out" || fail "$what: $(cat "$H/out")"
}

# ---- options --------------------------------------------------------------------------------
NODE=("$BIN/edgekv-node")
COORD=("$BIN/edgekv-coordinator" --data "$H/never")
refused "node --delay-ms inf" "edgekv-node: bad value for --delay-ms: 'inf' is not a finite number" \
    "${NODE[@]}" --delay-ms inf
refused "node --loss 2" "edgekv-node: bad value for --loss: 2 is out of range 0..0.9" \
    "${NODE[@]}" --loss 2
refused "node --seed x" "bad value for --seed: 'x' is not a whole number" "${NODE[@]}" --seed x
refused "node --policy" "bad value for --policy: 'lru' is not one of push, push-all" \
    "${NODE[@]}" --policy lru
refused "node --bogus" "edgekv-node: unknown option '--bogus'" "${NODE[@]}" --bogus 1
refused "node --cache-mb" "edgekv-node: --cache-mb needs a value (N)" "${NODE[@]}" --cache-mb
refused "coordinator --heartbeat-ms 0" \
    "edgekv-coordinator: bad value for --heartbeat-ms: 0 is out of range 1..60000" \
    "${COORD[@]}" --heartbeat-ms 0
refused "coordinator --durability" "bad value for --durability: 'sync' is not one of fsync, wal, none" \
    "${COORD[@]}" --durability sync
refused "coordinator --commit-cpu" "bad value for --commit-cpu: 'some' is not a valid CPU" \
    "${COORD[@]}" --commit-cpu some
refused "coordinator without --data" "edgekv-coordinator: --data DIR is required" \
    "$BIN/edgekv-coordinator" --http 127.0.0.1:0
[ ! -e "$H/never" ] || fail "a refused coordinator created its data folder"
pass "bad options end either daemon with status 2 and a message naming the option"

"$BIN/edgekv-node" --help >"$H/node-help" || fail "edgekv-node --help"
"$BIN/edgekv-coordinator" --help >"$H/coord-help" || fail "edgekv-coordinator --help"
for o in name http pub router delay-ms jitter loss rto-ms seed time-scale coordinator-timeout-ms \
    policy namespace cache-mb min-cache-ttl origin-timeout-ms max-connections \
    request-timeout-ms idle-timeout-ms ready-file verbose; do
    grep -q -- "^  --$o " "$H/node-help" || grep -q -- "^  --$o\$" "$H/node-help" ||
        fail "edgekv-node --help lacks --$o"
done
for o in data pub router http durability heartbeat-ms write-rate-limit log-keep log-max-age \
    sweep-ms api-token account-id max-connections request-timeout-ms idle-timeout-ms commit-cpu \
    ready-file verbose; do
    grep -q -- "^  --$o " "$H/coord-help" || fail "edgekv-coordinator --help lacks --$o"
done
grep -q -- "--cache-mb N .*(default 64)" "$H/node-help" || fail "node usage: $(cat "$H/node-help")"
pass "--help lists every option of both daemons with its default"

# ---- a low soft open-file limit, and --verbose ----------------------------------------------
HARD=$(ulimit -Hn)
SOFT=1024
if [ "$HARD" = unlimited ] || [ "$HARD" -lt 5000 ]; then
    echo "note: hard open-file limit $HARD: too low to tell, the daemons start with it"
    SOFT=$HARD
fi
# Each daemon is started by a subshell that lowers its own soft limit and then becomes it.
(
    ulimit -Sn "$SOFT"
    exec "$BIN/edgekv-coordinator" --data "$H/coord-db" --http 127.0.0.1:0 \
        --pub 'tcp://127.0.0.1:*' --router 'tcp://127.0.0.1:*' --ready-file "$H/coord.json" \
        --api-token s3cr3t-token --verbose >"$H/logs/coordinator.log" 2>&1
) &
COORD_PID=$!
PIDS="$PIDS $COORD_PID"
wait_ready coordinator "$COORD_PID" "$H/coord.json"
COORD_URL=$(jq -r .http "$H/coord.json")
(
    ulimit -Sn "$SOFT"
    exec "$BIN/edgekv-node" --name vpop --http 127.0.0.1:0 --pub "$(jq -r .pub "$H/coord.json")" \
        --router "$(jq -r .router "$H/coord.json")" --ready-file "$H/pop.json" --verbose \
        >"$H/logs/vpop.log" 2>&1
) &
POP_PID=$!
PIDS="$PIDS $POP_PID"
wait_ready vpop "$POP_PID" "$H/pop.json"
POP_URL=$(jq -r .url "$H/pop.json")

# check_start NAME PID LOG URL PROGRAM
check_start() {
    local name=$1 pid=$2 log=$3 url=$4 prog=$5 soft
    soft=$(awk '/^Max open files/ {print $4}' "/proc/$pid/limits")
    [ "$soft" = "$HARD" ] || fail "$name: soft open-file limit $soft, hard $HARD"
    if [ "$SOFT" != "$HARD" ]; then
        grep -q " $prog info: open files: limit raised from $SOFT to $HARD (the hard limit)$" "$log" ||
            fail "$name does not log the raised limit: $(head -5 "$log")"
    else
        grep -q " $prog info: open files: limit $HARD (the hard limit)$" "$log" ||
            fail "$name does not log its open-file limit: $(head -5 "$log")"
    fi
    if [ "$SOFT" != "$HARD" ]; then
        ! grep -q "lowered" "$log" || fail "$name lowered its connection cap: $(grep lowered "$log")"
        [ "$(metric "$url" edgekv_http_connections_limit)" = 4096 ] ||
            fail "$name cap: $(curl -s "$url/metrics" | grep connections_limit)"
    fi
    grep -q " $prog debug: options: " "$log" || fail "$name --verbose: no debug line: $(head -5 "$log")"
}
check_start coordinator "$COORD_PID" "$H/logs/coordinator.log" "$COORD_URL" coordinator
check_start vpop "$POP_PID" "$H/logs/vpop.log" "$POP_URL" vpop
grep -q " vpop debug: options: --name vpop --http 127.0.0.1:0 .* --policy push .*--verbose$" \
    "$H/logs/vpop.log" || fail "PoP options line: $(grep 'debug: options' "$H/logs/vpop.log")"
grep -q -- "--api-token (secret) " "$H/logs/coordinator.log" && ! grep -q s3cr3t "$H/logs/coordinator.log" ||
    fail "coordinator options line: $(grep 'debug: options' "$H/logs/coordinator.log")"
pass "both daemons raise a soft open-file limit of $SOFT to $HARD, log it, keep the cap of 4096"
pass "--verbose: both daemons log debug lines, their effective options first"

stop_pids $PIDS
PIDS=""
echo "$PASSED passed, 0 failed"
