#!/usr/bin/env bash
# edgekv ui's server without a browser: its API, its SSE stream and bad input, on a small push
# world at time scale 20 (a, b, c):
#   page     /, /app.js, /style.css and the map's land are served; anything else is a 404;
#   world    /api/world lists every PoP with its city and coordinates;
#   stream   /events sends the watched key and every node at once, then a write made through
#            /api/write and one made straight at a PoP (not from the page) each reach every
#            node on the stream, arrival and serving;
#   faults   partition b through /api/fault: b's link is cut (its /_edgekv/health says so) and
#            the stream marks it; heal undoes both; kill a (the node whose wait detects writes
#            made elsewhere): a write made at c is still followed; restart brings a back;
#   bad      wrong methods, missing, oversized and NUL-carrying parameters, unknown actions and
#            nodes, raw garbage and a 65th stream get a status and a reason, never a crash;
#   stop     SIGTERM ends it at once with status 0.
# Usage: ui_api_test.sh BIN_DIR SRC_DIR
set -euo pipefail
source "$2/tests/integration/lib.sh" "$1" "$2"
H=$EDGEKV_HOME
source "$2/tests/browser/ui_lib.sh"

ekv_topology "$H/w.yaml" policy=push-all time_scale=20 write_rate_limit=0 \
    a:-:Frankfurt 'b:-:New York' c:-:Sydney
"$EKV" up "$H/w.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
start_ui --key k
PORT=${U##*:}
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/state.json")

# code METHOD PATH: the status of the reply; the body goes to $H/body
code() { curl -s -o "$H/body" -w '%{http_code}' -X "$1" "$U$2"; }

# ---- page and world ----------------------------------------------------------------------
[ "$(code GET /)" = 200 ] && grep -q '<script src="/app.js">' "$H/body" || fail "GET /"
for p in /app.js /style.css /land-110m.json; do
    [ "$(code GET $p)" = 200 ] || fail "GET $p"
done
[ "$(code GET /../ui.c)" = 404 ] || fail "a path outside the page is not a 404"
pass "the page and its files are served, nothing else"
[ "$(code GET /api/world)" = 200 ] || fail "GET /api/world"
jq -e '(.nodes | length) == 3 and .time_scale == 20 and .coordinator.city == "Frankfurt"
    and ([.nodes[] | select(.name == "c")][0] | .city == "Sydney" and .lat < -33)' \
    "$H/body" >/dev/null || fail "world: $(cat "$H/body")"
pass "/api/world has every PoP with its city and coordinates"

# ---- the stream --------------------------------------------------------------------------
# events SECONDS: the stream's data lines for that long, into $H/events
events() { curl -sN --max-time "$1" "$U/events" >"$H/events" 2>/dev/null || true; }
events 1 &
E=$!
sleep 0.3
[ "$(code POST '/api/write?key=k&value=v1&via=b')" = 202 ] || fail "write: $(cat "$H/body")"
wait "$E"
grep -q '^event: world' "$H/events" || fail "no world event"
last_world() { grep -A1 '^event: world' "$H/events" | sed -n 's/^data: //p' | tail -1; }
SEQ=$(last_world | jq -r '.wave_seq')
[ "$SEQ" -gt 0 ] && [ "$(last_world | jq -r '.wave_from + " " + .key')" = "b k" ] ||
    fail "the write is not followed: $(last_world)"
# every node, in its last state on the stream, arrived and serves the write
nodes_at() { # SEQ: how many nodes ended serving SEQ with an arrival
    grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' | jq -s --argjson s "$1" '
        [.[].nodes[]] | group_by(.id) | map(last)
        | map(select(.seq == $s and .state == "fresh" and .arrived_us > 0 and .serving_us > 0))
        | length'
}
[ "$(nodes_at "$SEQ")" = 3 ] || fail "not every node shows write $SEQ: $(tail -c 600 "$H/events")"
pass "a write from the page reaches every node on the stream ($SEQ)"
events 1 &
E=$!
sleep 0.3
curl -sf -X PUT --data-binary v2 "$A/k?urlencoded=true" >/dev/null || fail "PUT at a"
wait "$E"
SEQ2=$(last_world | jq -r '.wave_seq')
[ "$SEQ2" -gt "$SEQ" ] && [ "$(nodes_at "$SEQ2")" = 3 ] ||
    fail "a write made elsewhere is not followed: $(last_world)"
pass "a write made straight at a PoP is followed too ($SEQ2)"

# ---- faults ------------------------------------------------------------------------------
[ "$(code POST '/api/fault?action=partition&node=b')" = 200 ] || fail "partition: $(cat "$H/body")"
curl -s "$B/_edgekv/health" | jq -e '.partitioned' >/dev/null || fail "b is not partitioned"
events 0.5
grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' |
    jq -e -s '[.[].nodes[] | select(.id == 1)] | last | .fault == "partitioned"' >/dev/null ||
    fail "the stream does not mark b"
[ "$(code POST '/api/fault?action=heal&node=b')" = 200 ] || fail "heal"
curl -s "$B/_edgekv/health" | jq -e '.partitioned | not' >/dev/null || fail "b is not healed"
pass "partition and heal reach b and show on the stream"

# kill a, the node the detector asks: it moves on, and a write made at c is still followed;
# restart brings a back on its address
C=$(jq -r '.pops[] | select(.name == "c") | .url' "$H/state.json")
[ "$(code POST '/api/fault?action=kill&node=a')" = 200 ] || fail "kill a: $(cat "$H/body")"
sleep 1.5
events 1.5 &
E=$!
sleep 0.3
curl -sf -X PUT --data-binary v3 "$C/k?urlencoded=true" >/dev/null || fail "PUT at c"
wait "$E"
SEQ3=$(last_world | jq -r '.wave_seq')
[ "$SEQ3" -gt "$SEQ2" ] && [ "$(nodes_at "$SEQ3")" = 2 ] ||
    fail "with a killed, a write at c is not followed: $(last_world)"
grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' |
    jq -e -s '[.[].nodes[] | select(.id == 0)] | last | .fault == "killed"' >/dev/null ||
    fail "the stream does not mark a killed"
[ "$(code POST '/api/fault?action=restart&node=a')" = 200 ] || fail "restart a: $(cat "$H/body")"
curl -sf "$A/_edgekv/health" >/dev/null || fail "a does not answer after restart"
pass "kill moves the detector on (a write at c is followed); restart brings a back"

# ---- bad input ---------------------------------------------------------------------------
bad() { # EXPECTED METHOD PATH WORDS: the status, and the reason names what is wrong
    local got
    got=$(code "$2" "$3")
    [ "$got" = "$1" ] || fail "$2 $3: $got, not $1: $(cat "$H/body")"
    grep -q "$4" "$H/body" || fail "$2 $3: no reason ($4): $(cat "$H/body")"
}
bad 405 GET '/api/write?key=k&value=v' 'docs/ui.md'
bad 405 PUT / 'only takes GET'
bad 400 POST '/api/write?value=v' 'key=K'
bad 400 POST '/api/write?key=k' 'value=V'
bad 400 POST "/api/write?key=$(head -c 513 /dev/zero | tr '\0' k)&value=v" '512 bytes'
bad 400 POST '/api/write?key=a%00b&value=v' 'NUL'
bad 404 POST '/api/write?key=k&value=v&via=nowhere' 'no PoP'
bad 400 POST '/api/watch' 'key=K'
bad 400 POST '/api/fault?action=explode&node=b' 'action='
bad 400 POST '/api/fault?action=slow&node=b' 'delay_ms'
bad 400 POST '/api/fault?action=slow&node=b&delay_ms=1e400' 'delay_ms'
bad 400 POST '/api/fault?action=kill-coordinator&node=b' 'action='
bad 404 POST '/api/fault?action=stop&node=nowhere' 'no PoP or tier'
python3 - "$PORT" <<'PY' || fail "raw garbage"
import socket, sys
port = int(sys.argv[1])
for raw in [b"\x00\xff\r\n\r\n", b"GET /api/world?%%%zz HTTP/1.1\r\nHost: x\r\n\r\n",
            b"POST /api/fault HTTP/1.1\r\nContent-Length: -5\r\n\r\n",
            b"GET / HTTP/1.1\r\n" + b"X: " + b"a" * 40000 + b"\r\n\r\n",
            b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n"]:
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    try:  # the server may answer and close before all is sent: that is fine
        s.sendall(raw)
        s.shutdown(socket.SHUT_WR)
        s.recv(4096)
    except OSError:
        pass
    s.close()
PY
# 64 streams at most: the 65th is told so (the others held open meanwhile). The streams above
# closed: the server notices at once.
sleep 0.2
python3 - "$PORT" <<'PY' || fail "too many streams"
import socket, sys
port, held = int(sys.argv[1]), []
for i in range(64):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
    assert s.recv(64).startswith(b"HTTP/1.1 200"), i
    held.append(s)
s = socket.create_connection(("127.0.0.1", port), timeout=5)
s.sendall(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
r = s.recv(4096)
assert r.startswith(b"HTTP/1.1 503") and b"too many pages" in r, r
PY
sleep 0.2 # the server sees the 64 go
[ "$(code GET /api/world)" = 200 ] || fail "the server does not answer after bad input"
curl -sN --max-time 0.5 "$U/events" >"$H/one" 2>&1 || true; grep -q "^event: world" "$H/one" ||
    fail "a stream is refused after the others closed: $(head -c 300 "$H/one")"
pass "bad input gets a status and a reason; the server goes on"

# ---- stop --------------------------------------------------------------------------------
kill -TERM "$UI_PID"
for _ in $(seq 1 30); do gone "$UI_PID" && break; sleep 0.1; done
gone "$UI_PID" || fail "edgekv ui did not stop on SIGTERM"
wait "$UI_PID" || fail "edgekv ui exited $?: $(grep -B1 -A9 "Sanitizer" "$H/ui.err" | head -40)"
UI_PID=""
pass "SIGTERM stops it, status 0"
echo "$PASSED passed"
