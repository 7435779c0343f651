#!/usr/bin/env bash
# Issue 28's examples/ (examples/README.md): each example Worker, unchanged, through `edgekv dev`
# at fra and lhr of the shipped kv world (topology.yaml with ephemeral ports and time_scale 10,
# so a 60 s cacheTtl lasts 6 real s; fra and lhr read through the same tier, tier-ams), checked
# against what its README says:
#   user-prefs     a save at fra is served at fra at once; lhr, which looked before, serves the
#                  default (a cached "not found") until its cacheTtl, except to the saver, whose
#                  cookie carries the save; then everyone gets it from KV;
#   sessions       a login at fra works at lhr at once (a new key is a miss everywhere); a
#                  logout ends the session at fra at once and at lhr only after lhr's cacheTtl;
#                  a logout right after the login fails with the binding's 429;
#   feature-flags  a flip at fra reaches lhr after more than the flags' 30 s cacheTtl (lhr
#                  refetches the tier's copy, 60 s), and only past both; the kill switch (a var)
#                  reaches both PoPs together within a reload;
#   rate-limiter   requests alternating between fra and lhr: each PoP counts only its own, so
#                  more than LIMIT get through and the stored count is lower than the requests
#                  allowed; a burst at one PoP meets the binding's 1 write/s (uncounted 429s).
# Times are taken before and after each read that caches, so a loaded machine only widens them.
# Needs Node.js >= 20 (scripts/lib/node.sh); `edgekv dev` installs its npm packages on first
# use. Everything is stopped by pid; nothing is killed by name.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/dev_lib.sh" "$1" "$2"

# start_example NAME: copies examples/NAME to $H/NAME and runs `edgekv dev --pop fra --pop lhr`
# there (start_dev); sets FRA and LHR too.
start_example() {
    cp -r "$SRC/examples/$1" "$H/$1"
    start_dev "$1" "$H/$1" --pop fra --pop lhr
    FRA=$(url "$1" fra)
    LHR=$(url "$1" lhr)
    [ -n "$FRA" ] && [ -n "$LHR" ] || devfail "$1: no URLs in $(cat "$H/dev-$1.out")"
}

# at MS: sleeps until the real time MS (ms since the epoch).
at() { while [ "$(now_ms)" -lt "$1" ]; do sleep 0.02; done; }
# req [CURL ARGS...] URL: BODY is the reply's body (one line), CODE its status.
req() {
    local out
    out=$(curl -sS --max-time 10 -w '\n%{http_code}' "$@") || devfail "curl $*"
    CODE=${out##*$'\n'}
    BODY=${out%$'\n'*}
    BODY=${BODY%$'\n'} # the Workers end their lines
}
# expect WHAT WANT [STATUS]: the last reply's body is WANT, its status STATUS (default 200).
expect() {
    [ "$BODY" = "$2" ] && [ "$CODE" = "${3:-200}" ] ||
        devfail "$1: $CODE '$BODY', not ${3:-200} '$2'"
}

up_shipped_world
[ "$(grep -cE '^(fra|lhr) .* tier-ams ' "$H/up.log")" = 2 ] ||
    fail "fra and lhr no longer read through tier-ams: $(grep -E '^(fra|lhr) ' "$H/up.log")"
pass "up: the shipped kv world at time_scale $TS; fra and lhr behind tier-ams"

# ---- user-prefs ---------------------------------------------------------------------------------
start_example user-prefs
JAR=$H/cookies
Q="prefs?user=ada"
# R0a and R0b bracket the read that caches: its copies live from between them for 60 s.
R0a=$(now_ms)
req "$LHR/$Q" # lhr (and tier-ams) cache "not found" for 60 s
R0b=$(now_ms)
expect "lhr before any save" "theme system (default) at LHR"
req -c "$JAR" -X PUT --data '{"theme":"dark"}' "$FRA/$Q"
expect "save at fra" "saved theme dark at FRA"
req "$FRA/$Q"
expect "fra after its save" "theme dark (kv) at FRA"
req "$LHR/$Q"
expect "lhr without the cookie, within its cacheTtl" "theme system (default) at LHR"
req -b "$JAR" "$LHR/$Q"
expect "lhr with the saver's cookie" "theme dark (cookie) at LHR"
at $((R0a + TTL / 2))
req "$LHR/$Q"
expect "lhr without the cookie at half its cacheTtl" "theme system (default) at LHR"
pass "user-prefs: the save is at fra at once; lhr serves the default to others," \
    "the save to the saver (cookie)"
at $((R0b + TTL + 400))
req "$LHR/$Q"
expect "lhr after its cacheTtl" "theme dark (kv) at LHR"
req -b "$JAR" "$LHR/$Q"
expect "lhr with the cookie after its cacheTtl" "theme dark (kv) at LHR"
pass "user-prefs: after lhr's cacheTtl ($TTL ms) everyone gets dark from KV"
stop_dev user-prefs

# ---- sessions ------------------------------------------------------------------------------------
start_example sessions
req -X POST "$FRA/login?user=ada"
TOKEN=$BODY
[[ "$TOKEN" =~ ^[0-9a-f-]{36}$ ]] || devfail "login: '$TOKEN'"
R0a=$(now_ms)
req "$LHR/me?token=$TOKEN"
R0b=$(now_ms)
expect "the new session at lhr" "user ada (logged in at FRA) at LHR"
pass "sessions: a login at fra works at lhr at once (a key nobody read is a miss)"
sleep 0.2 # the binding's one write a second to a key
req -X POST "$FRA/logout?token=$TOKEN"
expect "logout" "logged out at FRA"
req "$FRA/me?token=$TOKEN"
expect "fra after the logout" "no session at FRA" 401
for f in 2 7; do
    at $((R0a + TTL * f / 10))
    req "$LHR/me?token=$TOKEN"
    expect "lhr at $f/10 of its cacheTtl after the logout" "user ada (logged in at FRA) at LHR"
done
pass "sessions: logged out at fra at once; lhr still serves the session at 0.7 of its cacheTtl"
at $((R0b + TTL + 400))
req "$LHR/me?token=$TOKEN"
expect "lhr after its cacheTtl" "no session at LHR" 401
pass "sessions: after lhr's cacheTtl ($TTL ms) the session is gone there too"
# A logout within one (simulated) second of the login's write: the binding's 429. A loaded
# machine may space the two requests further apart: a few tries.
for _ in 1 2 3 4 5; do
    req -X POST "$FRA/login?user=grace"
    req -X POST "$FRA/logout?token=$BODY"
    [ "$CODE" = 503 ] && break
done
expect "logout right after login" \
    "logout failed (KV DELETE failed: 429 Too Many Requests), try again" 503
pass "sessions: a logout within a second of the login: $CODE '$BODY'"
stop_dev sessions

# ---- feature-flags -------------------------------------------------------------------------------
start_example feature-flags
req -X PUT --data '{"newCheckout":false}' "$FRA/flags"
expect "flags off" "flags set at FRA"
sleep 0.2 # the binding's one write a second to a key
R0a=$(now_ms)
req "$LHR/checkout" # lhr caches the flags for 30 s, tier-ams for its 60 s
R0b=$(now_ms)
expect "lhr before the flip" "old checkout at LHR"
req -X PUT --data '{"newCheckout":true}' "$FRA/flags"
expect "flip" "flags set at FRA"
req "$FRA/checkout"
expect "fra after its flip" "new checkout at FRA"
# 0.2: lhr's copy; 0.6 and 0.9: past the flags' 30 s, lhr has refetched the tier's old copy.
log=""
for f in 2 6 9; do
    at $((R0a + TTL * f / 10))
    req "$LHR/checkout"
    [ "$f" = 6 ] && R6b=$(now_ms) # lhr's refetched copy lives 30 s from before this
    log+=" +$(($(now_ms) - R0a))ms:'$BODY'"
    expect "lhr at $f/10 of the tier's 60 s ($log)" "old checkout at LHR"
done
t=$((R6b + TTL / 2))
at $((400 + (t > R0b + TTL ? t : R0b + TTL)))
req "$LHR/checkout"
log+=" +$(($(now_ms) - R0a))ms:'$BODY'"
expect "lhr past the tier's copy and its own ($log)" "new checkout at LHR"
pass "feature-flags: cacheTtl 30 s, and lhr is old until the tier's 60 s and its own 30 s:$log"
sed -i 's/^KILL_SWITCH = "off"/KILL_SWITCH = "on"/' "$H/feature-flags/wrangler.toml"
T=$(now_ms)
for _ in $(seq 1 100); do # workerd restarts: a second or so without service
    BODY=$(curl -sS --max-time 10 "$FRA/checkout" 2>/dev/null) || true
    [ "$BODY" = "old checkout (kill switch) at FRA" ] && break
    sleep 0.05
done
expect "fra after the kill switch" "old checkout (kill switch) at FRA"
req "$LHR/checkout"
expect "lhr right after fra has the kill switch" "old checkout (kill switch) at LHR"
pass "feature-flags: the kill switch (a var) at both PoPs $(($(now_ms) - T)) ms after the save"
# The reload started a new workerd: that is the one Ctrl-C must stop.
WORKERD_PID=$(ps -o pid=,comm= --ppid "$DEV_PID" | awk '$2 == "workerd" { print $1 }')
[ -n "$WORKERD_PID" ] || devfail "no workerd under edgekv dev after the reload"
WORKERD_PIDS+=("$WORKERD_PID")
stop_dev feature-flags

# ---- rate-limiter --------------------------------------------------------------------------------
start_example rate-limiter
# One fixed window (60 real s) for the whole run: not within 8 s of its end.
while [ $(($(now_ms) % 60000)) -gt 52000 ]; do sleep 0.5; done
allowed=0 limited=0
for _ in $(seq 1 12); do
    for url in "$FRA" "$LHR"; do
        req "$url/api?client=ada"
        case "$CODE $BODY" in
            "200 allowed "[0-9]*) allowed=$((allowed + 1)) ;;
            "429 limited "*) limited=$((limited + 1)) ;;
            *) devfail "rate-limiter: $CODE '$BODY'" ;;
        esac
        sleep 0.15 # past the binding's one write a second to the key
    done
done
LIMIT=$(jq -r .vars.LIMIT "$H/rate-limiter/wrangler.json")
# The count in KV itself, as wrangler would read it.
key=$(cd "$H/rate-limiter" &&
    "$EKV" kv key list --binding COUNTERS --prefix rl:ada: | jq -r '.[0].name')
stored=$(cd "$H/rate-limiter" && "$EKV" kv key get "$key" --binding COUNTERS --text)
[ "$allowed" -gt "$LIMIT" ] || devfail "rate-limiter: only $allowed allowed of 24 (LIMIT $LIMIT)"
[ "$stored" -lt "$allowed" ] || devfail "rate-limiter: stored $stored, allowed $allowed"
pass "rate-limiter: 24 requests alternating fra/lhr: $allowed allowed (LIMIT $LIMIT)," \
    "$limited limited, $key = $stored in KV"
u="$FRA/api?client=bob"
burst=$(curl -S --no-progress-meter --max-time 10 -Z "$u" "$u" "$u" "$u" "$u") ||
    devfail "burst: curl"
refused="allowed uncounted (KV PUT failed: 429 Too Many Requests) at FRA"
uncounted=$(grep -cxF "$refused" <<<"$burst" || true)
[ "$(grep -c '^allowed ' <<<"$burst")" = 5 ] && [ "$uncounted" -ge 2 ] ||
    devfail "burst: $burst"
pass "rate-limiter: a burst of 5 in parallel at fra:" \
    "$uncounted writes refused by the binding's 1 write/s"
stop_dev rate-limiter

expect_down "$H/state.json"
echo "$PASSED passed, 0 failed"
