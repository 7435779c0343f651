#!/usr/bin/env bash
# "fetching" on the page: a PoP fetching the watched key from origin says so, in a push world
# at time scale 1 (a, b) where b's link is slowed to 1.5 s one way, so a read at b of a key it
# has no copy of waits about 3 s for the coordinator:
#   look     while that read is under way b's /_edgekv/look says fetching, and not once it
#            is answered (then b holds the coordinator's "not found");
#   stream   edgekv ui's `nodes` event says fetching for b while it fetches, and not after.
# Usage: ui_fetch_test.sh BIN_DIR SRC_DIR
set -euo pipefail
source "$2/tests/integration/lib.sh" "$1" "$2"
H=$EDGEKV_HOME
source "$2/tests/browser/ui_lib.sh"

ekv_topology "$H/w.yaml" policy=push time_scale=1 a:0:Frankfurt b:0:Rome
"$EKV" up "$H/w.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")
start_ui --key f
open_events 30
[ "$(curl -s -o "$H/body" -w '%{http_code}' -X POST "$U/api/fault?action=slow&node=b&delay_ms=1500")" = 200 ] ||
    fail "slow b: $(cat "$H/body")"
sleep 2 # heartbeats on the slower link come again

fetching_b() { curl -sf "$B/_edgekv/look?key=f" | jq -c '[.fetching, .state]'; }
# b's last `nodes` entry on the stream, as [fetching, state]
stream_b() {
    grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' |
        jq -c -s '[.[].nodes[] | select(.id == 1)] | last | [.fetching, .state]'
}
[ "$(fetching_b)" = '[false,"absent"]' ] || fail "before the read b says $(fetching_b)"
T0=$(date +%s%N)
curl -s -o /dev/null -w '%{http_code}\n' "$B/f?urlencoded=true" >"$H/read" &
RD_PID=$!
PIDS=$RD_PID # stopped by the cleanup should the test end before it
sleep 0.3
[ "$(fetching_b)" = '[true,"absent"]' ] || fail "while the read waits b says $(fetching_b)"
pass "b's look says fetching while a read waits for the coordinator"
for _ in $(seq 1 20); do
    [ "$(stream_b)" = '[true,"absent"]' ] && break
    sleep 0.1
done
[ "$(stream_b)" = '[true,"absent"]' ] || fail "the stream says $(stream_b) for b while it fetches"
[ $((($(date +%s%N) - T0) / 1000000)) -lt 2500 ] || fail "the stream showed it too late"
pass "edgekv ui's stream says b is fetching"

wait "$RD_PID" || true
PIDS=""
[ "$(cat "$H/read")" = 404 ] || fail "the read at b: $(cat "$H/read")"
[ "$(fetching_b)" = '[false,"fresh"]' ] || fail "after the read b says $(fetching_b)"
for _ in $(seq 1 20); do
    [ "$(stream_b)" = '[false,"fresh"]' ] && break
    sleep 0.1
done
[ "$(stream_b)" = '[false,"fresh"]' ] || fail "after the read the stream says $(stream_b) for b"
pass "once answered b holds \"not found\" and fetches no more, on its look and the stream"

stop_ui
echo "$PASSED passed"
