#!/usr/bin/env bash
# Garbage on every ZeroMQ socket is dropped, counted as malformed, and the daemon keeps serving.
#   coordinator ROUTER: wire_inject router sends malformed requests (garbage, an empty frame,
#        wrong versions, truncations, a huge length prefix, trailing bytes, an unknown type, a
#        wrong field type, a HELLO_REPLY, too many frames), then a valid READ that must be
#        answered; edgekv_malformed_messages_total grows by exactly the number sent, and the
#        REST API still stores and returns a value.
#   PoP SUB and DEALER: against wire_inject fake-coordinator (which greets the PoP, publishes
#        heartbeats, then malformed messages on PUB with valid and invalid topics, bad replies
#        on ROUTER and one valid CHANGE), the PoP counts exactly the malformed ones, applies the
#        CHANGE (and none of the bogus ones), and still serves HTTP.
# Usage: wire_test.sh BIN_DIR SRC_DIR WIRE_INJECT
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
INJECT=$3



# ---- coordinator ROUTER --------------------------------------------------------------------
ekv_topology "$EDGEKV_HOME/one.yaml" solo:0
"$EKV" up "$EDGEKV_HOME/one.yaml" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
ROUTER=$(jq -r .router "$EDGEKV_HOME/state.json")
C=$(jq -r .coordinator.url "$EDGEKV_HOME/state.json")
CPID=$(jq -r .coordinator.pid "$EDGEKV_HOME/state.json")
P=$(jq -r '.pops[0].url' "$EDGEKV_HOME/state.json")
[[ "$ROUTER" == tcp://* ]] && [ "$CPID" -gt 0 ] || fail "state.json: $(cat "$EDGEKV_HOME/state.json")"
pass "one-PoP topology up (router $ROUTER)"

M=edgekv_malformed_messages_total
before=$(metric "$C" $M)
[ -n "$before" ] || fail "no $M in the coordinator's /metrics"
"$INJECT" router "$ROUTER" >"$EDGEKV_HOME/router.out" 2>"$EDGEKV_HOME/router.err" ||
    fail "wire_inject router: $(cat "$EDGEKV_HOME/router.out" "$EDGEKV_HOME/router.err")"
bad=$(awk '$1 == "bad" { print $2 }' "$EDGEKV_HOME/router.out")
[ "${bad:-0}" -gt 0 ] || fail "wire_inject router printed no count: $(cat "$EDGEKV_HOME/router.out")"
pass "coordinator answered a valid READ after $bad malformed requests on the same socket"

# The valid READ was answered after all of them (one socket, in order): all are counted now.
after=$(metric "$C" $M)
[ "$after" = $((before + bad)) ] || fail "coordinator $M $before -> $after, want +$bad"
gone "$CPID" && fail "coordinator $CPID died"
pass "coordinator counted all $bad malformed requests ($M $before -> $after) and is alive"

# Flags a node must not set: the coordinator's private flag for its sweeper's conditional
# deletes would make a node's delete of a key with another expiration a no-op.
"$INJECT" flags "$ROUTER" >"$EDGEKV_HOME/flags.out" 2>&1 ||
    fail "wire_inject flags: $(cat "$EDGEKV_HOME/flags.out")"
pass "a node's delete with stray flags and an expiration still deletes ($(cat "$EDGEKV_HOME/flags.out"))"

NS=00000000000000000000000000000000
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary wire-ok \
    "$C/client/v4/accounts/x/storage/kv/namespaces/$NS/values/after-garbage")
[ "$code" = 200 ] || fail "REST PUT after the garbage: $code"
got=$(curl -sf "$C/client/v4/accounts/x/storage/kv/namespaces/$NS/values/after-garbage") ||
    fail "REST GET after the garbage failed"
[ "$got" = wire-ok ] || fail "REST GET after the garbage: '$got'"
got=$(curl -sf "$P/after-garbage") || fail "PoP GET after the garbage failed"
[ "$got" = wire-ok ] || fail "PoP GET after the garbage: '$got'"
pass "coordinator REST PUT and GET still work (and the PoP reads through it)"

"$EKV" down >/dev/null || fail "edgekv down"
gone "$CPID" || fail "coordinator $CPID still running after down"

# ---- PoP SUB and DEALER, against a fake coordinator ----------------------------------------
FAKE_OUT="$EDGEKV_HOME/fake.out"
"$INJECT" fake-coordinator 'tcp://127.0.0.1:*' 'tcp://127.0.0.1:*' >"$FAKE_OUT" \
    2>"$EDGEKV_HOME/fake.err" &
FPID=$!
# shellcheck disable=SC2034 # stopped by ekv_cleanup (lib.sh)
PIDS="$FPID"
for _ in $(seq 1 100); do
    [ "$(grep -c '^\(pub\|router\) ' "$FAKE_OUT")" = 2 ] && break
    sleep 0.05
done
FPUB=$(awk '$1 == "pub" { print $2 }' "$FAKE_OUT")
FROUTER=$(awk '$1 == "router" { print $2 }' "$FAKE_OUT")
[ -n "$FPUB" ] && [ -n "$FROUTER" ] || fail "fake coordinator did not bind: $(cat "$EDGEKV_HOME/fake.err")"

READY="$EDGEKV_HOME/pop.ready"
"$BIN/edgekv-node" --name wire --http 127.0.0.1:0 --pub "$FPUB" --router "$FROUTER" \
    --policy push-all --ready-file "$READY" >"$EDGEKV_HOME/pop.log" 2>&1 &
NPID=$!
# shellcheck disable=SC2034
PIDS="$NPID $FPID"
for _ in $(seq 1 100); do
    [ -s "$READY" ] && break
    sleep 0.05
done
[ -s "$READY" ] || fail "PoP not ready within 5 s: $(tail -5 "$EDGEKV_HOME/pop.log")"
N=$(jq -r .url "$READY")
pass "PoP ready against the fake coordinator ($N)"

want=""
for _ in $(seq 1 100); do
    want=$(awk '$1 == "expect_malformed" { print $2 }' "$FAKE_OUT")
    [ -n "$want" ] && break
    sleep 0.05
done
[ -n "$want" ] || fail "fake coordinator never injected: $(cat "$FAKE_OUT" "$EDGEKV_HOME/fake.err")"

# Wait for the counter to reach the number sent, then a little longer: it must not pass it.
malformed=0
for _ in $(seq 1 100); do
    malformed=$(curl -sf "$N/stats" | jq -r .malformed) || malformed=0
    [ "$malformed" -ge "$want" ] && break
    sleep 0.05
done
sleep 0.3
malformed=$(curl -sf "$N/stats" | jq -r .malformed)
[ "$malformed" = "$want" ] || fail "PoP malformed $malformed, want $want"
gone "$NPID" && fail "PoP $NPID died: $(tail -5 "$EDGEKV_HOME/pop.log")"
pass "PoP counted all $want malformed messages on SUB and DEALER and is alive"

poll_applied "$N" 1 60 0.05 || true
stats=$(curl -sf "$N/stats")
[ "$APPLIED" = 1 ] || fail "PoP applied_seq $APPLIED, want 1 (the one valid CHANGE): $stats"
[ "$(jq -r .changes_applied <<<"$stats")" = 1 ] || fail "PoP applied other changes: $stats"
pass "PoP applied the valid CHANGE (seq 1) and nothing bogus"

out=$(curl -s -w ' %{http_code}' "$N/wire-key")
[ "$out" = "wire-value 200" ] || fail "PoP GET wire-key: '$out'"
entries=$(curl -sf "$N/stats" | jq -r .cache.entries)
[ "$entries" = 1 ] || fail "PoP holds $entries entries, want 1 (wire-key)"
code=$(curl -s -o /dev/null -w '%{http_code}' "$N/_edgekv/health")
[ "$code" = 200 ] || fail "PoP health: $code"
pass "PoP still serves HTTP: wire-key from the valid CHANGE, health 200"

stop_started
gone "$NPID" && gone "$FPID" || fail "PoP or fake coordinator still running"
pass "stopped the PoP and the fake coordinator by pid"

echo "$PASSED passed, 0 failed"
