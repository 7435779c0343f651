#!/usr/bin/env bash
# Bad clients cannot bring a daemon down or tie it up (common/ekv_http.c), on both HTTP
# servers: the coordinator's REST API and a PoP's binding surface.
#   - `edgekv up` on a one-PoP topology: both daemons report the default limits in /metrics.
#   - A coordinator and a PoP started directly with --max-connections 4,
#     --request-timeout-ms 3000 and --idle-timeout-ms 2000 (the PoP joins the coordinator of
#     the topology), and against each of them, from a python3 client on raw sockets
#     (http_limits.py):
#       * a client sending its request one byte per second gets 408 and is disconnected 3 s
#         after its first byte (not before, and not more than 1 s late), while other clients
#         on fresh and kept-alive connections are each served within 1.5 s (a server tied up
#         by the slow client would make them wait for its deadline);
#       * a connection that sends nothing is closed after the idle timeout;
#       * with 4 connections open, 3 more each get 503 naming the cap and are closed, the 4
#         keep being served, /metrics (asked on one of them) shows 4 open, peak 4 and the
#         refusals, and once 2 close a new connection is served;
#       * request line and headers over 16 KiB get 431; a PoP PUT whose 2000-byte metadata
#         header fits gets the KV-SPEC 413 "Metadata length of 2000 exceeds limit of 1024.";
#       * a client that does not read its 8 MiB reply cannot make the server buffer what it
#         keeps sending (the server stops reading; the client can push < 16 MiB);
#       * after connections that closed before sending anything, halfway through a request,
#         after a reply, or were timed out or refused, /metrics counts only the connection
#         asking (no drift);
#       * the process is still alive and serving at the end.
# Every process is stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
HERE=$(cd "$(dirname "$0")" && pwd)

H=$EDGEKV_HOME
mkdir -p "$H/logs"

LIMITS=(--max-connections 4 --request-timeout-ms 3000 --idle-timeout-ms 2000)



# ---- the topology, with the default limits -----------------------------------------------
ekv_topology "$H/one-pop.yaml" pin_cpus=false near:0
"$EKV" up "$H/one-pop.yaml" >/dev/null || fail "edgekv up"
"$EKV" status --json >"$H/status.json"
TOPO_COORD=$(jq -r .coordinator.url "$H/status.json")
TOPO_POP=$(jq -r '.pops[0].url' "$H/status.json")
PUB=$(jq -r .pub "$H/state.json")
ROUTER=$(jq -r .router "$H/state.json")
[ "$(metric "$TOPO_COORD" edgekv_http_connections_limit)" = 4096 ] ||
    fail "coordinator default cap: $(curl -s "$TOPO_COORD/metrics" | grep http_connections)"
[ "$(metric "$TOPO_POP" edgekv_http_connections_limit)" = 4096 ] ||
    fail "PoP default cap: $(curl -s "$TOPO_POP/metrics" | grep http_connections)"
curl -s "$TOPO_POP/metrics" | grep -q '^edgekv_http_connections{pop="near"} 1$' ||
    fail "PoP connections gauge: $(curl -s "$TOPO_POP/metrics" | grep http_connections)"
pass "edgekv up: both daemons report the default cap of 4096 and their open connections"
# pin_cpus: false leaves the PoP on every CPU this test may use.
POP_PID=$(jq -r '.pops[0].pid' "$H/status.json")
[ "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/"$POP_PID"/status)" = \
  "$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)" ] || fail "pin_cpus: false pinned the PoP"
pass "pin_cpus: false: the PoP is not pinned"

# ---- the same daemons with low limits -------------------------------------------------------
"$BIN/edgekv-coordinator" --data "$H/coord-db" --http 127.0.0.1:0 --pub 'tcp://127.0.0.1:*' \
    --router 'tcp://127.0.0.1:*' --ready-file "$H/coord.json" "${LIMITS[@]}" \
    >"$H/logs/coordinator-limits.log" 2>&1 &
COORD_PID=$!
PIDS="$PIDS $COORD_PID"
wait_ready coordinator-limits "$COORD_PID" "$H/coord.json"
COORD=$(jq -r .http "$H/coord.json")

"$BIN/edgekv-node" --name limits --http 127.0.0.1:0 --pub "$PUB" --router "$ROUTER" \
    --ready-file "$H/pop.json" "${LIMITS[@]}" >"$H/logs/pop-limits.log" 2>&1 &
POP_PID=$!
PIDS="$PIDS $POP_PID"
wait_ready pop-limits "$POP_PID" "$H/pop.json"
POP=$(jq -r .url "$H/pop.json")
case "$COORD $POP" in http://127.0.0.1:*" "http://127.0.0.1:*) ;; *) fail "urls: $COORD $POP" ;; esac

for target in "coordinator $COORD $COORD_PID" "pop $POP $POP_PID"; do
    read -r kind url pid <<<"$target"
    python3 "$HERE/http_limits.py" "$url" "$kind" 4 3000 2000 >"$H/out" 2>&1 || {
        cat "$H/out"
        fail "$kind limits"
    }
    sed 's/^ok: /   /' "$H/out"
    gone "$pid" && fail "the $kind exited"
    [ "$(curl -s -o /dev/null -w '%{http_code}' "$url/metrics")" = 200 ] ||
        fail "the $kind does not answer at the end"
    pass "$kind: slow, idle, surplus and oversized clients handled; still alive and serving"
done

# The topology's daemons were untouched by all this.
[ "$(curl -s -o /dev/null -w '%{http_code}' "$TOPO_POP/_edgekv/health")" = 200 ] ||
    fail "topology PoP"
pass "topology still serving"
echo "$PASSED passed"
