#!/usr/bin/env bash
# The kv policy (KV-SPEC 5 and 5.1) as users of two PoPs see it: a coordinator and PoPs a and b
# started by hand with --policy kv and --time-scale 20, so the default cacheTtl of 60 s lasts
# 3 s real. A key read at b and then written through a: a serves the new value at once, b the
# old one until its cacheTtl and then the new one, and /_edgekv/look at b says fresh, then
# stale, with expires_in counting down. A "not found" cached at b keeps reading 404 after the
# key is created, until its cacheTtl. A new key is missing from b's cached list until the
# list's cacheTtl (a's list shows it at once). A hot key read late is refreshed in the
# background, with no MISS. /_edgekv/visibility at b: the change arrived early, was served late.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
mkdir -p "$H/logs"

"$BIN/edgekv-coordinator" --data "$H/db" --http 127.0.0.1:0 --pub 'tcp://127.0.0.1:*' \
    --router 'tcp://127.0.0.1:*' --ready-file "$H/coord.json" --write-rate-limit 0 \
    >"$H/logs/coord.log" 2>&1 &
PIDS="$PIDS $!"
wait_ready coord "$!" "$H/coord.json"

start_pop() { # NAME DELAY_MS
    "$BIN/edgekv-node" --name "$1" --http 127.0.0.1:0 --pub "$(jq -r .pub "$H/coord.json")" \
        --router "$(jq -r .router "$H/coord.json")" --ready-file "$H/$1.json" --policy kv \
        --time-scale 20 --delay-ms "$2" >"$H/logs/$1.log" 2>&1 &
    PIDS="$PIDS $!"
    wait_ready "$1" "$!" "$H/$1.json"
}
start_pop a 0
start_pop b 20
A=$(jq -r .url "$H/a.json")
B=$(jq -r .url "$H/b.json")

ms() { date +%s%3N; }
# hget URL: sets CODE, BODY, CACHE
hget() {
    CODE=$(curl -s -o "$H/body" -D "$H/hdr" -w '%{http_code}' "$1") || CODE=000
    BODY=$(cat "$H/body")
    CACHE=$(tr -d '\r' <"$H/hdr" | sed -n 's/^cf-cache-status: //Ip')
}
hput() { # URL VALUE: sets CODE and VER
    CODE=$(curl -s -o /dev/null -D "$H/hdr" -w '%{http_code}' -X PUT --data-binary "$2" "$1") ||
        CODE=000
    VER=$(tr -d '\r' <"$H/hdr" | sed -n 's/^x-edgekv-version: //Ip')
    [ "$CODE" = 200 ] || fail "PUT $1: $CODE"
}
look() { curl -sf "$B/_edgekv/look?key=$1" >"$H/look" || fail "look $1"; }
stat_of() { curl -sf "$1/stats" | jq -r ".$2"; }
list_names() { curl -sf "$1/" | jq -r '[.keys[].name] | join(",")'; }

# ---- setup: k=v1 and the list cached at b, "missing" cached there as not found -----------------
hput "$A/k?urlencoded=true" v1
hput "$A/l1?urlencoded=true" x
look k
jq -e '.state == "absent" and .seq == null and .expires_in_ms == null' "$H/look" >/dev/null ||
    fail "look before any read: $(cat "$H/look")"
T_CACHED=$(ms)
hget "$B/k?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = v1 ] && [ "$CACHE" = MISS ] || fail "b first read: $CODE $BODY $CACHE"
hget "$B/missing?urlencoded=true"
[ "$CODE" = 404 ] && [ "$CACHE" = MISS ] || fail "b first read of missing: $CODE $CACHE"
[ "$(list_names "$B")" = k,l1 ] || fail "b's first list: $(list_names "$B")"
[ "$(list_names "$A")" = k,l1 ] || fail "a's first list"
look k
jq -e '.state == "fresh" and .negative == false and .reads == 0 and .expires_in_ms > 50000
       and .expires_in_ms <= 60000 and .age_ms >= 0' "$H/look" >/dev/null ||
    fail "look at b after the read: $(cat "$H/look")"
look missing
jq -e '.state == "fresh" and .negative == true' "$H/look" >/dev/null || fail "look missing: $(cat "$H/look")"
pass "b caches k=v1, 'missing' as not found and its list; look says fresh, 60 s to go"

# ---- writes through a ------------------------------------------------------------------------
hput "$A/k?urlencoded=true" v2
V2=$VER
hput "$A/missing?urlencoded=true" now-here
hput "$A/l2?urlencoded=true" y
hget "$A/k?urlencoded=true"
[ "$BODY" = v2 ] && [ "$CACHE" = HIT ] || fail "a after its write: $BODY $CACHE"
[ "$(list_names "$A")" = k,l1,l2,missing ] || fail "a's list after its writes: $(list_names "$A")"
pass "a serves its writes at once (value and list)"
curl -sf "$B/_edgekv/wait?seq=$V2&timeout_ms=3000" >"$H/wait" || fail "v2 never arrived at b"
jq -e '.served_us == null' "$H/wait" >/dev/null || fail "v2 served at b on arrival: $(cat "$H/wait")"
hget "$B/k?urlencoded=true"
[ "$BODY" = v1 ] && [ "$CACHE" = HIT ] || fail "b after the write: $BODY $CACHE (want v1 HIT)"
hget "$B/missing?urlencoded=true"
[ "$CODE" = 404 ] && [ "$CACHE" = HIT ] || fail "b's not found after the create: $CODE $CACHE"
[ "$(list_names "$B")" = k,l1 ] || fail "b's list shows the new keys already: $(list_names "$B")"
look k
jq -e '.state == "fresh" and .reads == 1' "$H/look" >/dev/null || fail "look k: $(cat "$H/look")"
pass "b keeps serving v1, not found and its old list after the writes arrived"

# ---- until the cacheTtl (3 s real) ------------------------------------------------------------
while :; do
    look k
    [ "$(jq -r .state "$H/look")" = stale ] && break
    [ $(($(ms) - T_CACHED)) -lt 6000 ] || fail "k never went stale at b: $(cat "$H/look")"
    sleep 0.1
done
EL=$(($(ms) - T_CACHED))
[ "$EL" -ge 2700 ] || fail "k went stale at b after $EL ms (cacheTtl is 3000 ms real)"
jq -e '.expires_in_ms <= 0' "$H/look" >/dev/null || fail "stale with time left: $(cat "$H/look")"
hget "$B/k?urlencoded=true"
[ "$BODY" = v2 ] && [ "$CACHE" = EXPIRED ] || fail "b after its cacheTtl: $BODY $CACHE"
hget "$B/missing?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = now-here ] || fail "missing after its cacheTtl: $CODE $BODY"
[ "$(list_names "$B")" = k,l1,l2,missing ] || fail "b's list after its cacheTtl: $(list_names "$B")"
pass "after ${EL} ms b went stale and serves v2, the new key and the new list"

curl -sf "$B/_edgekv/visibility?from=0" >"$H/vis" || fail "visibility"
jq -e --argjson s "$V2" '[.records[] | select(.[0] == $s)][0] as $r |
    $r[3] != null and ($r[3] - $r[2]) > 2000000' "$H/vis" >/dev/null ||
    fail "served-from of v2 at b: $(cat "$H/vis")"
curl -sf "$B/_edgekv/wait?seq=$V2&served=1&timeout_ms=100" >"$H/wait" || fail "wait served"
pass "b's record of v2: arrived at once, served $(jq -r '.served_us - .visible_us' "$H/wait") us later"

# ---- refresh-ahead: a hot key read late is refreshed without a MISS --------------------------
hput "$A/hot?urlencoded=true" h1
hget "$B/hot?urlencoded=true"
[ "$CACHE" = MISS ] || fail "hot first read: $CACHE"
T_HOT=$(ms)
hget "$B/hot?urlencoded=true"
[ "$CACHE" = HIT ] || fail "hot second read"
hput "$A/hot?urlencoded=true" h2
MISSES=$(stat_of "$B" misses)
sleep "$(awk -v t="$T_HOT" -v n="$(ms)" 'BEGIN { d = (t + 2600 - n) / 1000; print (d > 0 ? d : 0) }')"
hget "$B/hot?urlencoded=true" # hot (second read since stored) and late (past 0.8 of 3 s)
[ $(($(ms) - T_HOT)) -lt 3000 ] || fail "too slow: the late read came after the cacheTtl"
[ "$BODY" = h1 ] && [ "$CACHE" = HIT ] || fail "late read of a hot key: $BODY $CACHE"
for _ in $(seq 1 50); do
    hget "$B/hot?urlencoded=true"
    [ "$BODY" = h2 ] && break
    [ "$CACHE" = HIT ] || fail "read while refreshing: $CACHE"
    sleep 0.02
done
[ "$BODY" = h2 ] && [ "$CACHE" = HIT ] || fail "hot key not refreshed: $BODY $CACHE"
[ "$(stat_of "$B" misses)" = "$MISSES" ] || fail "the refresh cost a miss"
[ "$(stat_of "$B" refreshes)" -ge 1 ] && [ "$(stat_of "$B" refresh_hits)" -ge 1 ] ||
    fail "refresh counters: $(curl -sf "$B/stats")"
pass "a hot key read late was refreshed in the background: h2 as a HIT, no miss"

stop_started
echo "$PASSED passed, 0 failed"
