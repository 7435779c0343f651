#!/usr/bin/env bash
# 429s are counted where they are answered and summed by edgekv ui, whoever wrote: in a push
# world at time scale 1 with the binding's limit of 1 write per second per key, bursts of
# writes to one key made straight at PoPs a and b with curl (not from the page), each in under
# a second, get some 429s (k_a at a, k_b at b):
#   pop      a's /_edgekv/stats says rate_limited k_a, b's k_b, and /metrics says the same as
#            edgekv_pop_rate_limited_total;
#   ui       with a page's stream open, edgekv ui's `world` event says rate_limited k_a + k_b
#            (the page writes none of them: writes_429 stays 0), each node's `nodes` entry its
#            own.
# Usage: ui_429_test.sh BIN_DIR SRC_DIR
set -euo pipefail
source "$2/tests/integration/lib.sh" "$1" "$2"
H=$EDGEKV_HOME
source "$2/tests/browser/ui_lib.sh"

ekv_topology "$H/w.yaml" policy=push time_scale=1 write_rate_limit=1 a:0:Frankfurt b:0:Rome
"$EKV" up "$H/w.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/state.json")
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")
start_ui

# burst URL N: N writes of key hot through the binding of the PoP at URL, one curl on one
# connection (a few ms each: well under a second in all); prints their statuses, a line each.
# The counts below hold however long it took; only k > 0 needs the burst to be quick.
burst() {
    local urls=() i
    for i in $(seq 1 "$2"); do urls+=("$1/hot?urlencoded=true" -o /dev/null); done
    curl -s -X PUT --data-binary v -w '%{http_code}\n' "${urls[@]}"
}
# a page's stream, open while the PoPs are polled (edgekv ui asks nothing with no page open)
open_events 30
burst "$A" 6 >"$H/a.codes" || true
burst "$B" 4 >"$H/b.codes" || true
KA=$(grep -c '^429$' "$H/a.codes" || true)
KB=$(grep -c '^429$' "$H/b.codes" || true)
OTHER=$(cat "$H/a.codes" "$H/b.codes" | grep -cv '^200$\|^429$' || true)
[ "$KA" -gt 0 ] && [ "$KB" -gt 0 ] && [ "$OTHER" = 0 ] ||
    fail "bursts of 6 and 4 writes to one key in under a second: a $(paste -sd' ' "$H/a.codes"), b $(paste -sd' ' "$H/b.codes")"
pass "bursts at a and b got 429s: $KA at a, $KB at b"

for p in "a $A $KA" "b $B $KB"; do
    read -r name url k <<<"$p"
    got=$(curl -sf "$url/_edgekv/stats" | jq '.rate_limited')
    [ "$got" = "$k" ] || fail "$name's stats say rate_limited $got, not $k"
    curl -sf "$url/metrics" >"$H/metrics" || fail "$name's /metrics"
    grep -qx "edgekv_pop_rate_limited_total{pop=\"$name\"} $k" "$H/metrics" ||
        fail "$name's /metrics: $(grep rate_limited "$H/metrics" || echo 'no rate_limited')"
    grep -q '^# HELP edgekv_pop_rate_limited_total ..*' "$H/metrics" || fail "no HELP text"
done
pass "each PoP counts its own 429s in /_edgekv/stats and /metrics"

# the server reads every node's /stats once a second: the sum comes within a few
K=$((KA + KB))
last_world() { grep -A1 '^event: world' "$H/events" | sed -n 's/^data: //p' | tail -1; }
node_429() { # ID: the node's last rate_limited on the stream
    grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' |
        jq -s --argjson i "$1" '[.[].nodes[] | select(.id == $i)] | last | .rate_limited'
}
for _ in $(seq 1 80); do
    [ "$(last_world | jq '.rate_limited')" = "$K" ] && break
    sleep 0.1
done
[ "$(last_world | jq '.rate_limited')" = "$K" ] ||
    fail "edgekv ui's world says rate_limited $(last_world | jq '.rate_limited'), not $K: $(last_world)"
[ "$(last_world | jq '.writes_429')" = 0 ] || fail "the page made no write: $(last_world)"
[ "$(node_429 0)" = "$KA" ] && [ "$(node_429 1)" = "$KB" ] ||
    fail "the nodes on the stream say $(node_429 0) and $(node_429 1), not $KA and $KB"
pass "edgekv ui sums every PoP's 429s ($K), not only the page's writes"

stop_ui
echo "$PASSED passed"
