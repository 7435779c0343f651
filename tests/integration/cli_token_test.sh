#!/usr/bin/env bash
# The world's token in the CLI's requests (sim/keys.c, hclient.c, ui.c, ui_poll.c, kvcli_io.c):
# a python stand-in (cli_token_stub.py) plays the coordinator and a PoP of a world recorded in
# a state.json written here, and logs every request's Authorization header.
#   without keys   look, verify, probe, kv and ui's polls send none; the live page is open;
#                  `ui --listen 0.0.0.0:0` is refused (a page off loopback needs keys);
#   edgekv keys    keys.json 0600; a second `keys` refuses, `keys --token` prints its token;
#   with keys      every request of look, verify, probe, kv and ui's polls carries
#                  `Bearer TOKEN`; kv with CLOUDFLARE_API_TOKEN sends the user's instead;
#   live page      (on --listen 127.0.0.2) 401 (WWW-Authenticate) without the token or with a
#                  wrong one; /?token=TOKEN sets the HttpOnly SameSite=Strict cookie and
#                  redirects to /; the cookie or the bearer header then opens the page and its
#                  API.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
LOG=$H/requests.jsonl
# the fake state.json must not reach lib.sh's `edgekv down`
trap 'rm -f "$H/state.json"; ekv_cleanup' EXIT

python3 "$SRC/tests/integration/cli_token_stub.py" "$LOG" "$H/stub.port" &
STUB=$!
PIDS="$STUB"
for _ in $(seq 1 100); do
    [ -s "$H/stub.port" ] && break
    gone "$STUB" && fail "the stub exited at start"
    sleep 0.05
done
[ -s "$H/stub.port" ] || fail "the stub did not start"
URL=http://127.0.0.1:$(cat "$H/stub.port")
START=$(awk '{print $22}' "/proc/$STUB/stat")

ekv_topology "$H/world.yaml" a:10:Frankfurt
proc() { # NAME: a state.json process entry for the stub
    printf '{"name": "%s", "city": "Frankfurt", "url": "%s", "pid": %d, "start": %s, ' \
        "$1" "$URL" "$STUB" "$START"
    printf '"delay_ms": 10, "policy": "ttl"}'
}
cat >"$H/state.json" <<EOF
{"topology": "$H/world.yaml", "time_scale": 1, "pub": "tcp://127.0.0.1:9", "router":
 "tcp://127.0.0.1:9", "coordinator": $(proc coordinator), "pops": [$(proc a)]}
EOF

# clients: runs the CLI's clients against the stub (their outcome does not matter here)
clients() {
    : >"$LOG"
    timeout 10 "$EKV" look k >/dev/null 2>&1 || true
    timeout 10 "$EKV" verify >/dev/null 2>&1 || true
    timeout 10 "$EKV" probe >/dev/null 2>&1 || true
    timeout 10 "$EKV" kv namespace list >/dev/null 2>&1 || true
}
# seen PATH_PREFIX: 0 when the log has a request for it
seen() {
    jq -se --arg p "$1" 'any(.[]; .path | startswith($p))' "$LOG" >/dev/null
}
# auths: the distinct Authorization values of the log, one a line ("null" for none)
auths() {
    jq -r '.auth' "$LOG" | sort -u
}

# start_ui [ARG...]: `edgekv ui` on an ephemeral port; sets UI (its URL) and UI_PID
start_ui() {
    "$EKV" ui --port 0 --key k "$@" >"$H/ui.out" 2>"$H/ui.err" &
    UI_PID=$!
    PIDS="$PIDS $UI_PID"
    for _ in $(seq 1 100); do
        UI=$(sed -n 's|^edgekv ui: \(http://127.0.0.[0-9]*:[0-9]*\)/ .*|\1|p' "$H/ui.out")
        [ -n "$UI" ] && return 0
        gone "$UI_PID" && fail "edgekv ui exited: $(cat "$H/ui.err")"
        sleep 0.05
    done
    fail "edgekv ui did not start"
}
# ui_polls [CURL_ARG...]: opens the page's stream (edgekv ui polls only while a page is open)
# and waits for its first polls: the node's look of the key and /stats, the coordinator's read
ui_polls() {
    curl -s -N --max-time 5 "$@" "$UI/events" >/dev/null &
    local stream=$!
    PIDS="$PIDS $stream"
    for _ in $(seq 1 60); do
        if seen /_edgekv/look && seen /stats && seen /client/v4/; then
            stop_pids "$stream"
            return 0
        fi
        sleep 0.05
    done
    fail "edgekv ui did not poll the node: $(cat "$LOG")"
}
stop_ui() {
    stop_pids "$UI_PID"
    PIDS="$STUB"
    ! grep -q Sanitizer "$H/ui.err" || fail "edgekv ui: $(cat "$H/ui.err")"
}
code() { # curl's status line code for its arguments
    curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$@"
}

# ---- without keys ---------------------------------------------------------------------------
clients
for p in /_edgekv/look /_edgekv/digest /client/v4/accounts/; do
    seen "$p" || fail "no request for $p: $(cat "$LOG")"
done
[ "$(auths)" = null ] || fail "a request carried a token without keys: $(auths)"
: >"$LOG"
start_ui
ui_polls
[ "$(code "$UI/api/world")" = 200 ] || fail "the page without keys is not open"
[ "$(auths)" = null ] || fail "edgekv ui sent a token without keys: $(auths)"
stop_ui
! timeout 5 "$EKV" ui --listen 0.0.0.0:0 >/dev/null 2>"$H/ui.err" ||
    fail "ui --listen 0.0.0.0 without keys"
grep -q '^edgekv ui: --listen 0.0.0.0:0 is not loopback: run `edgekv keys` first$' "$H/ui.err" ||
    fail "ui --listen 0.0.0.0: $(cat "$H/ui.err")"
pass "without keys no request carries a token, the live page is open, only on loopback"

# ---- edgekv keys ----------------------------------------------------------------------------
"$EKV" keys >"$H/keys.out" || fail "keys: $(cat "$H/keys.out")"
grep -q "CURVE server public key: .\{40\}$" "$H/keys.out" ||
    fail "keys printed: $(cat "$H/keys.out")"
[ "$(stat -c %a "$H/keys.json")" = 600 ] || fail "keys.json is not 0600"
! "$EKV" keys >/dev/null 2>"$H/keys.err" || fail "a second keys did not refuse"
grep -q 'exists: `edgekv keys --force` replaces it' "$H/keys.err" || fail "$(cat "$H/keys.err")"
TOKEN=$("$EKV" keys --token)
[ "$TOKEN" = "$(jq -r .token "$H/keys.json")" ] && [ ${#TOKEN} = 43 ] ||
    fail "keys --token printed '$TOKEN'"
pass "edgekv keys writes keys.json 0600 once; --token prints its token"

# ---- with keys ------------------------------------------------------------------------------
clients
for p in /_edgekv/look /_edgekv/digest /client/v4/accounts/; do
    seen "$p" || fail "no request for $p: $(cat "$LOG")"
done
[ "$(auths)" = "Bearer $TOKEN" ] || fail "not every request carried the token: $(auths)"
: >"$LOG"
CLOUDFLARE_API_TOKEN=user-token-1234567 timeout 10 "$EKV" kv namespace list >/dev/null 2>&1 || true
[ "$(auths)" = "Bearer user-token-1234567" ] || fail "kv did not send the user's token: $(auths)"
pass "with keys look, verify, probe and kv send the token (kv the user's when given)"

# ---- the live page with keys ----------------------------------------------------------------
: >"$LOG"
start_ui --listen 127.0.0.2:0
[[ $UI == http://127.0.0.2:* ]] || fail "ui --listen 127.0.0.2:0 serves $UI"
ui_polls -H "Authorization: Bearer $TOKEN"
[ "$(auths)" = "Bearer $TOKEN" ] || fail "edgekv ui's polls did not carry the token: $(auths)"
curl -s -D "$H/h401" -o "$H/b401" --max-time 5 "$UI/" || fail "the page did not answer"
head -1 "$H/h401" | grep -q ' 401 ' || fail "the page without the token: $(head -1 "$H/h401")"
grep -qi '^WWW-Authenticate: Bearer realm="edgekv"' "$H/h401" || fail "no WWW-Authenticate"
grep -q 'edgekv keys --token' "$H/b401" || fail "the 401 page: $(cat "$H/b401")"
for u in /api/world /events "/?token=wrong-token-0123456789"; do
    [ "$(code "$UI$u")" = 401 ] || fail "$u without the token was not 401"
done
[ "$(code -H "Authorization: Bearer wrong-token-0123456789" "$UI/api/world")" = 401 ] ||
    fail "a wrong bearer was let in"
curl -s -D "$H/hlogin" -o /dev/null --max-time 5 "$UI/?token=$TOKEN"
head -1 "$H/hlogin" | grep -q ' 303 ' || fail "?token= did not redirect: $(head -1 "$H/hlogin")"
tr -d '\r' <"$H/hlogin" | grep -qx 'Location: /' || fail "?token= redirected elsewhere"
tr -d '\r' <"$H/hlogin" |
    grep -qix "Set-Cookie: edgekv_token=$TOKEN; HttpOnly; SameSite=Strict; Path=/" ||
    fail "?token= set no proper cookie: $(cat "$H/hlogin")"
[ "$(code -b "other=1; edgekv_token=$TOKEN" "$UI/")" = 200 ] || fail "the cookie did not open /"
[ "$(code -b "edgekv_token=$TOKEN" "$UI/api/world")" = 200 ] || fail "the cookie: /api/world"
[ "$(code -H "Authorization: Bearer $TOKEN" "$UI/api/world")" = 200 ] || fail "the bearer"
stop_ui
pass "the live page: 401 without the token, ?token= sets the cookie, which opens it"

echo "$PASSED passed, 0 failed"
