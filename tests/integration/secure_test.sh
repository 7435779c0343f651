#!/usr/bin/env bash
# The daemons' security (common/ekv_sec, docs/PROTOCOL.md "Security"), with daemons started by
# hand on loopback and their keys in the environment (CURVE is on whenever keys are present):
#   - the coordinator (server keys), a tier (server and client keys) and a PoP reading through
#     the tier (client keys) become ready; a read at the PoP goes through the tier;
#   - a PoP with another client key, and one without keys, never become ready; the
#     coordinator counts the refusal (edgekv_zap_denied_total) and logs it;
#   - every ZeroMQ port (PUB, ROUTER, the tier's ROUTER) greets with the CURVE mechanism (a raw
#     ZMTP greeting, nothing decrypted);
#   - with EDGEKV_TOKEN, admin paths of the PoP and the tier (/metrics, /stats,
#     /_edgekv/visibility) answer 401 with WWW-Authenticate without the bearer token and 200
#     with it, /_edgekv/health and the binding surface stay open; the coordinator's REST API
#     answers 403 / 10000 without it, its /metrics and /_edgekv/digest 401, /health 200;
#   - addresses outside loopback are refused at start without the variables that cover them,
#     with the message naming what to set; epgm with keys is refused; a bad key is named.
# Every process is started here and stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
KEYS=$3

H=$EDGEKV_HOME
mkdir -p "$H/logs"

K=$("$KEYS" 3) || fail "secure_keys"
# shellcheck disable=SC2086 # one key a word
read -r SRV_PUB SRV_SEC CLI_PUB CLI_SEC OTHER_PUB OTHER_SEC <<<"$(echo $K)"
[ ${#OTHER_SEC} = 40 ] || fail "secure_keys: '$OTHER_SEC'"
TOKEN=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
SERVER_ENV=(EDGEKV_TOKEN="$TOKEN" EDGEKV_CURVE_SERVER_SECRET="$SRV_SEC"
    EDGEKV_CURVE_CLIENT_KEY="$CLI_PUB")
CLIENT_ENV=(EDGEKV_TOKEN="$TOKEN" EDGEKV_CURVE_SERVER_KEY="$SRV_PUB"
    EDGEKV_CURVE_CLIENT_SECRET="$CLI_SEC")
AUTH=(-H "Authorization: Bearer $TOKEN")

port_of() { echo "${1##*:}"; }

# ---- a keyed world on loopback ----------------------------------------------------------------
env "${SERVER_ENV[@]}" "$BIN/edgekv-coordinator" --data "$H/db" --http 127.0.0.1:0 \
    --pub 'tcp://127.0.0.1:*' --router 'tcp://127.0.0.1:*' --heartbeat-ms 50 \
    --ready-file "$H/coord.json" >"$H/logs/coordinator.log" 2>&1 &
COORD_PID=$!
PIDS="$PIDS $COORD_PID"
wait_ready coordinator "$COORD_PID" "$H/coord.json"
PUB=$(jq -r .pub "$H/coord.json")
ROUTER=$(jq -r .router "$H/coord.json")
C=$(jq -r .http "$H/coord.json")

# start_node NAME [ENV...] -- [OPTIONS...]: starts a node in the background; sets NODE_PID.
start_node() {
    local name=$1 envs=()
    shift
    while [ "$1" != -- ]; do
        envs+=("$1")
        shift
    done
    shift
    rm -f "$H/$name.json"
    env "${envs[@]}" "$BIN/edgekv-node" --name "$name" --http 127.0.0.1:0 --pub "$PUB" \
        --router "$ROUTER" --coordinator-timeout-ms 1000 --ready-file "$H/$name.json" "$@" \
        >>"$H/logs/$name.log" 2>&1 &
    NODE_PID=$!
    PIDS="$PIDS $NODE_PID"
}

start_node tier1 "${SERVER_ENV[@]}" "${CLIENT_ENV[@]}" -- --role tier --serve 'tcp://127.0.0.1:*'
TIER_PID=$NODE_PID
# The two refused PoPs start at once: the wait for their readiness overlaps the others'.
start_node wrong EDGEKV_CURVE_SERVER_KEY="$SRV_PUB" EDGEKV_CURVE_CLIENT_SECRET="$OTHER_SEC" --
WRONG_PID=$NODE_PID
start_node plain --
PLAIN_PID=$NODE_PID
T0=$(date +%s%N)
wait_ready tier1 "$TIER_PID" "$H/tier1.json"
SERVE=$(jq -r .serve "$H/tier1.json")
start_node a "${CLIENT_ENV[@]}" -- --policy kv --tier "$SERVE"
A_PID=$NODE_PID
wait_ready a "$A_PID" "$H/a.json"
A=$(jq -r .url "$H/a.json")
grep -q "CURVE on the PUB and ROUTER sockets" "$H/logs/coordinator.log" ||
    fail "coordinator log: $(tail -3 "$H/logs/coordinator.log")"
grep -q "CURVE on the links to the coordinator and the tier" "$H/logs/a.log" ||
    fail "a's log: $(tail -3 "$H/logs/a.log")"
pass "coordinator, tier and PoP with the world's keys are ready"

# A miss at a is read through the tier (its CURVE link), then from the coordinator.
code=$(curl -s --max-time 5 -o /dev/null -w '%{http_code}' "$A/missing?urlencoded=true") || code=000
[ "$code" = 404 ] || fail "a read through the tier: $code"
[ "$(curl -s --max-time 5 "${AUTH[@]}" "$(jq -r .url "$H/tier1.json")/stats" |
    jq -r .misses)" -ge 1 ] ||
    fail "the tier saw no read"
pass "a miss at the PoP goes through the tier's CURVE ROUTER (404, the tier counts it)"

for port in "$(port_of "$PUB")" "$(port_of "$ROUTER")" "$(port_of "$SERVE")"; do
    m=$(mechanism "$port") || fail "no greeting on port $port"
    [ "$m" = CURVE ] || fail "port $port greets with '$m'"
done
pass "the PUB, the ROUTER and the tier's ROUTER greet with CURVE"

# ---- the bearer token ---------------------------------------------------------------------------
# status URL [curl options...]: the reply's status; headers in $H/hdr, body in $H/body.
status() {
    local url=$1
    shift
    curl -s --max-time 5 -o "$H/body" -D "$H/hdr" -w '%{http_code}' "$@" "$url" || echo 000
}
TIER=$(jq -r .url "$H/tier1.json")
for url in "$A/_edgekv/visibility?from=0" "$A/metrics" "$A/stats" "$TIER/stats" "$C/metrics" \
    "$C/_edgekv/digest"; do
    code=$(status "$url")
    [ "$code" = 401 ] || fail "$url without the token: $code"
    tr -d '\r' <"$H/hdr" | grep -qx 'WWW-Authenticate: Bearer realm="edgekv"' ||
        fail "$url: no WWW-Authenticate: $(cat "$H/hdr")"
    jq -e '.error == "missing or wrong bearer token"' "$H/body" >/dev/null ||
        fail "$url: body $(cat "$H/body")"
    code=$(status "$url" -H "Authorization: Bearer ${TOKEN}x")
    [ "$code" = 401 ] || fail "$url with a wrong token: $code"
    code=$(status "$url" "${AUTH[@]}")
    [ "$code" = 200 ] || fail "$url with the token: $code"
done
for url in "$A/_edgekv/health" "$TIER/_edgekv/health" "$C/health"; do
    code=$(status "$url")
    [ "$code" = 200 ] || fail "$url without the token: $code"
done
code=$(status "$A/k?urlencoded=true" -X PUT --data-binary v1)
[ "$code" = 200 ] || fail "binding PUT without the token: $code"
code=$(status "$A/k?urlencoded=true")
[ "$code" = 200 ] && [ "$(cat "$H/body")" = v1 ] || fail "binding GET: $code $(cat "$H/body")"
API=/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces
code=$(status "$C$API")
[ "$code" = 403 ] && jq -e '.errors[0].code == 10000' "$H/body" >/dev/null ||
    fail "REST without the token: $code $(cat "$H/body")"
code=$(status "$C$API" "${AUTH[@]}")
[ "$code" = 200 ] || fail "REST with the token: $code $(cat "$H/body")"
pass "admin paths 401 without the token, 200 with it; health and the binding open; REST 403"

# ---- refused clients ------------------------------------------------------------------------------
# Ready within 1.5 s of their start, had they been admitted (heartbeats every 50 ms).
while [ $(($(date +%s%N) - T0)) -lt 1500000000 ]; do
    sleep 0.1
done
for p in wrong plain; do
    [ ! -s "$H/$p.json" ] || fail "PoP $p became ready"
done
pid_alive() { ! gone "$1"; }
pid_alive "$WRONG_PID" && pid_alive "$PLAIN_PID" || fail "a refused PoP exited"
denied=$(curl -s --max-time 5 "${AUTH[@]}" "$C/metrics" |
    awk '$1 == "edgekv_zap_denied_total" {print $2}')
[ "${denied:-0}" -ge 1 ] || fail "edgekv_zap_denied_total: '$denied'"
grep -q "refused a CURVE client from 127.0.0.1 (unknown key)" "$H/logs/coordinator.log" ||
    fail "no refusal logged: $(tail -3 "$H/logs/coordinator.log")"
[ "$(grep -c "refused a CURVE client" "$H/logs/coordinator.log")" = 1 ] ||
    fail "the refusal is logged more than once a minute"
pass "PoPs with another client key or none are never ready; refused $denied times, logged once"

# ---- refusals at start ------------------------------------------------------------------------
# refused WHAT EXPECTED-MESSAGE COMMAND...: exits 2 saying EXPECTED-MESSAGE (whole line).
refused() {
    local what=$1 want=$2 rc=0
    shift 2
    "$@" >"$H/out" 2>&1 || rc=$?
    [ "$rc" = 2 ] || fail "$what: status $rc: $(cat "$H/out")"
    grep -qxF -- "$want" "$H/out" || fail "$what: $(cat "$H/out")"
}
COORD=("$BIN/edgekv-coordinator" --data "$H/never")
refused "coordinator --http" "edgekv-coordinator: --http 10.77.0.1:8780 is not a loopback address: set EDGEKV_TOKEN (the bearer token every request must carry); \`edgekv keys\` makes one" \
    "${COORD[@]}" --http 10.77.0.1:8780
refused "coordinator --pub" "edgekv-coordinator: --pub tcp://10.77.0.1:8781 is not a loopback address: set EDGEKV_CURVE_SERVER_SECRET and EDGEKV_CURVE_CLIENT_KEY (CURVE keys; \`edgekv keys\` makes them)" \
    "${COORD[@]}" --pub tcp://10.77.0.1:8781
refused "coordinator --router *" "edgekv-coordinator: --router tcp://*:8782 is not a loopback address: set EDGEKV_CURVE_SERVER_SECRET and EDGEKV_CURVE_CLIENT_KEY (CURVE keys; \`edgekv keys\` makes them)" \
    "${COORD[@]}" --router 'tcp://*:8782'
refused "node --pub" "edgekv-node: --pub tcp://10.77.0.1:8781 is not a loopback address: set EDGEKV_CURVE_SERVER_KEY and EDGEKV_CURVE_CLIENT_SECRET (CURVE keys; \`edgekv keys\` makes them)" \
    "$BIN/edgekv-node" --pub tcp://10.77.0.1:8781
refused "node --http" "edgekv-node: --http 0.0.0.0:0 is not a loopback address: set EDGEKV_TOKEN (the bearer token every request must carry); \`edgekv keys\` makes one" \
    "$BIN/edgekv-node" --http 0.0.0.0:0
refused "tier --serve" "edgekv-node: --serve tcp://0.0.0.0:0 is not a loopback address: set EDGEKV_CURVE_SERVER_SECRET and EDGEKV_CURVE_CLIENT_KEY (CURVE keys; \`edgekv keys\` makes them)" \
    env "${CLIENT_ENV[@]}" "$BIN/edgekv-node" --role tier --serve tcp://0.0.0.0:0
refused "coordinator epgm" "edgekv-coordinator: --pub epgm://lo;239.192.0.1:5555: CURVE does not apply to epgm; a world with keys publishes over tcp" \
    env "${SERVER_ENV[@]}" "${COORD[@]}" --pub 'epgm://lo;239.192.0.1:5555'
refused "bad key" "edgekv-node: EDGEKV_CURVE_SERVER_KEY is not a Z85 CURVE key (40 characters)" \
    env EDGEKV_CURVE_SERVER_KEY=short EDGEKV_CURVE_CLIENT_SECRET="$CLI_SEC" "$BIN/edgekv-node"
[ ! -e "$H/never" ] || fail "a refused coordinator created its data folder"
# With the keys, the same addresses pass the check (and fail only at the bind, not with 2).
rc=0
env "${SERVER_ENV[@]}" EDGEKV_TOKEN=0123456789abcdef0123 "${COORD[@]}" --http 10.77.0.1:8780 \
    --pub tcp://10.77.0.1:8781 --router tcp://10.77.0.1:8782 >"$H/out" 2>&1 || rc=$?
[ "$rc" = 1 ] && grep -q "cannot bind tcp://10.77.0.1:8781" "$H/out" ||
    fail "keyed coordinator on 10.77.0.1: status $rc: $(cat "$H/out")"
rm -rf "$H/never"
pass "non-loopback binds and connects refused without the variables, each naming what to set"

stop_pids "$A_PID" "$WRONG_PID" "$PLAIN_PID" "$TIER_PID" "$COORD_PID"
PIDS=""
echo "$PASSED passed, 0 failed"
