#!/usr/bin/env bash
# Expirations follow the world's time scale, as cacheTtl and link delays do (issue 25 item 5).
# A kv world at time scale 20 (tier ams, PoPs a, b, c behind it) gets four keys that expire:
#   k1   expirationTtl 60 through PoP a (the binding)        -> 3 s of real time
#   k2   expirationTtl 60 through the REST API               -> 3 s
#   k3   expiration_ttl 60 in a REST bulk write              -> 3 s
#   k4   expiration now + 120 through PoP b                  -> 6 s
# Each is read at every PoP with cacheTtl 300 (15 s real, longer than any of these lives), so a
# copy that disappears does so because its expiration passed, not its cacheTtl. The REST list
# reports the real moments (now + 3, now + 6). At 4 s k1..k3 are gone at every PoP and at the
# coordinator while k4 is still served everywhere; at 7 s k4 is gone too. Before expirations
# followed time_scale, each of these keys lived 60 (120) real seconds. The coordinator gets the
# time scale and the topology's api_rate_limit (scaled) on its command line, the PoPs and the
# tier the refresh-ahead settings.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
NS="/client/v4/accounts/x/storage/kv/namespaces/00000000000000000000000000000000"
ekv_topology "$H/world.yaml" policy=kv time_scale=20 write_rate_limit=0 \
    coordinator.api_rate_limit=1200 refresh_hot_reads=3 refresh_late=0.5 \
    tier=ams:Amsterdam a:-:Paris b:-:Rome c:-:Madrid
"$EKV" up "$H/world.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
"$EKV" status --json >"$H/status.json" || fail "status --json"
C=$(jq -r .coordinator.url "$H/status.json")
mapfile -t POPS < <(jq -r '.pops[].url' "$H/status.json")
[ "${#POPS[@]}" = 3 ] || fail "expected 3 PoPs: $(cat "$H/status.json")"
A=${POPS[0]} B=${POPS[1]}

# The coordinator runs at the world's time scale, with the account's API limit per 5 simulated
# minutes: 1200 x 20 per 5 real minutes.
tr '\0' ' ' <"/proc/$(jq -r .coordinator.pid "$H/status.json")/cmdline" >"$H/coord.cmdline"
grep -q -- '--time-scale 20 --api-rate-limit 24000 ' "$H/coord.cmdline" ||
    fail "coordinator options: $(cat "$H/coord.cmdline")"
# The topology's refresh-ahead settings reach every PoP and the tier.
for url in $(jq -r '.pops[].url, .tiers[].url' "$H/status.json"); do
    curl -s "$url/_edgekv/health" | jq -e '.refresh_hot_reads == 3 and .refresh_late == 0.5' \
        >/dev/null || fail "refresh settings not passed: $url/_edgekv/health: $(curl -s "$url/_edgekv/health")"
done

ms() { date +%s%3N; }
code() { curl -s --max-time 10 -o /dev/null -w '%{http_code}' "$@" || echo 000; }
sleep_until() { # MS since the epoch
    local left=$(($1 - $(ms)))
    [ "$left" -le 0 ] || sleep "$(awk -v l="$left" 'BEGIN {print l / 1000}')"
}
# expect KEY CODE WHEN: KEY read at every PoP (cacheTtl 300) answers CODE.
expect() {
    local url c
    for url in "${POPS[@]}"; do
        c=$(code "$url/$1?urlencoded=true&cache_ttl=300")
        [ "$c" = "$2" ] || fail "$3: $1 at $url answered $c, not $2"
    done
}

T0=$(ms)
NOW_S=$((T0 / 1000))
[ "$(code -X PUT --data-binary one "$A/k1?urlencoded=true&expiration_ttl=60")" = 200 ] ||
    fail "PUT k1 through a"
[ "$(code -X PUT --data-binary two "$C$NS/values/k2?expiration_ttl=60")" = 200 ] ||
    fail "REST PUT k2"
[ "$(code -X PUT -H 'Content-Type: application/json' \
    --data-binary '[{"key": "k3", "value": "three", "expiration_ttl": 60}]' "$C$NS/bulk")" = 200 ] ||
    fail "REST bulk PUT k3"
[ "$(code -X PUT --data-binary four "$B/k4?urlencoded=true&expiration=$((NOW_S + 120))")" = 200 ] ||
    fail "PUT k4 through b"

# Every PoP serves all four (the first read of each caches it for 15 s of real time).
for k in k1 k2 k3 k4; do expect "$k" 200 "before expiry"; done
pass "four expiring keys served at every PoP"

# The stored and reported expiration is the real moment: now + 60 / 20 and now + 120 / 20.
curl -sf "$C$NS/keys" >"$H/list.json" || fail "REST list"
for kv in k1:3 k2:3 k3:3 k4:6; do
    jq -e --arg k "${kv%%:*}" --argjson d "${kv#*:}" --argjson now "$NOW_S" \
        '.result[] | select(.name == $k) | .expiration >= $now + $d - 1
         and .expiration <= $now + $d + 1' "$H/list.json" >/dev/null ||
        fail "${kv%%:*}'s expiration is not about now + ${kv#*:} s: $(cat "$H/list.json")"
done
pass "the REST list reports expirations at the world's time scale"

# 4 s after the writes (expirations at most now_s + 3 <= T0 + 3 s): k1..k3 gone everywhere.
sleep_until $((T0 + 4000))
for k in k1 k2 k3; do
    expect "$k" 404 "4 s after the writes"
    [ "$(code "$C$NS/values/$k")" = 404 ] || fail "$k still at the coordinator after 4 s"
done
expect k4 200 "4 s after the writes"
pass "expirationTtl 60 at time scale 20: gone at every PoP and the coordinator after 3 s"

sleep_until $((T0 + 7000))
expect k4 404 "7 s after the writes"
[ "$(code "$C$NS/values/k4")" = 404 ] || fail "k4 still at the coordinator after 7 s"
pass "expiration now + 120 at time scale 20: gone everywhere after 6 s"
