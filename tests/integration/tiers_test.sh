#!/usr/bin/env bash
# Regional tiers (KV-SPEC 5.1) as processes, started by `edgekv up` from a topology with two
# tiers and four kv PoPs at time scale 20 (cacheTtl 60 s = 3 s real; tier ams keeps copies
# 120 s = 6 s real). A read at a misses through its tier ams (the tier's /stats shows the miss);
# the same key read at b, another PoP of ams, is a tier hit that costs the coordinator no read;
# after a write through a, b serves the old value until its own cacheTtl, then the tier's old
# copy until the tier's cacheTtl, then the new value, and c (a third PoP of ams) gets the old
# copy from the tier. With tier_purge_on_write the write drops the tier's copy, so c gets the
# new value at once. A stopped or killed tier makes its PoPs' misses 503 (no fallback to the
# coordinator) while a PoP of the other tier reads on; restarting it heals them. With the
# coordinator down a tier's fresh copies still serve its PoPs. status lists the tiers; down
# leaves no process.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME

world() { # FILE PURGE
    ekv_topology "$1" policy=kv time_scale=20 write_rate_limit=0 tier_purge_on_write="$2" \
        'tier=ams:Amsterdam,cache_ttl: 120' 'tier=nyc:New York' a:-:Paris b:-:Rome \
        'c:-:Madrid,tier: ams' d:-:Boston
}

ms() { date +%s%3N; }
url() {
    jq -r --arg n "$1" '(.pops + (.tiers // []))[] | select(.name == $n) | .url' "$H/status.json"
}
# hget URL: sets CODE, BODY, CACHE
hget() {
    CODE=$(curl -s --max-time 20 -o "$H/body" -D "$H/hdr" -w '%{http_code}' "$1") || CODE=000
    BODY=$(cat "$H/body")
    CACHE=$(tr -d '\r' <"$H/hdr" | sed -n 's/^cf-cache-status: //Ip')
}
hput() { # URL VALUE
    local code
    code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary "$2" "$1") ||
        code=000
    [ "$code" = 200 ] || fail "PUT $1: $code"
}
stat_of() { curl -sf --max-time 5 "$1/stats" | jq -r ".$2"; }
coord_reads() {
    curl -sf --max-time 5 "$COORD/metrics" |
        awk '$1 == "edgekv_operations_total{op=\"read\"}" {print $2; exit}'
}
# sleep_until T0 MS: until MS milliseconds after T0.
sleep_until() {
    local left=$(($1 + $2 - $(ms)))
    [ "$left" -le 0 ] || sleep "$(awk -v l="$left" 'BEGIN {print l / 1000}')"
}
up() { # FILE
    "$EKV" up "$1" >"$H/up.out" 2>&1 || fail "edgekv up: $(cat "$H/up.out")"
    "$EKV" status --json >"$H/status.json" || fail "status --json"
    COORD=$(jq -r .coordinator.url "$H/status.json")
    A=$(url a) B=$(url b) C=$(url c) D=$(url d) AMS=$(url ams) NYC=$(url nyc)
}

mkdir -p "$H"
world "$H/world.yaml" false
up "$H/world.yaml"
grep -q "4 PoPs and 2 tiers up" "$H/up.out" || fail "up's summary: $(tail -1 "$H/up.out")"

# ---- status lists the tiers and each PoP's tier ------------------------------------------------
jq -e '[.tiers[] | .name] == ["ams", "nyc"]
       and all(.tiers[]; .running and (.serve | test("^tcp://127")))
       and ([.pops[] | .tier] == ["ams", "ams", "ams", "nyc"])' "$H/status.json" >/dev/null ||
    fail "status --json: $(jq -c '{tiers, pops: [.pops[] | {name, tier}]}' "$H/status.json")"
"$EKV" status >"$H/status.txt"
grep -Eq '^TIER ' "$H/status.txt" && grep -Eq '^d .* nyc ' "$H/status.txt" ||
    fail "status table: $(cat "$H/status.txt")"
pass "status lists 2 tiers and each PoP's tier (c named its own, the others the nearest)"

# ---- a miss at a goes through ams; the same key at b is a tier hit ------------------------------
hput "$D/k?urlencoded=true" v1 # d caches its own write; a, b, c and ams have nothing
R0=$(coord_reads)
T0=$(ms)
hget "$A/k?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = v1 ] && [ "$CACHE" = MISS ] ||
    fail "a's first read: $CODE $BODY $CACHE"
[ "$(stat_of "$AMS" misses)" = 1 ] && [ "$(stat_of "$AMS" hits)" = 0 ] ||
    fail "ams after a's miss: $(curl -s "$AMS/stats" | jq -c '{hits, misses}')"
[ "$(stat_of "$A" origin_reads)" = 1 ] || fail "a's origin reads: $(stat_of "$A" origin_reads)"
R1=$(coord_reads)
[ "$R1" = $((R0 + 1)) ] || fail "coordinator reads after a's miss: $R0 -> $R1"
pass "a's miss went a -> ams -> coordinator (ams: 1 miss)"

hget "$B/k?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = v1 ] && [ "$CACHE" = MISS ] ||
    fail "b's first read: $CODE $BODY $CACHE"
[ "$(stat_of "$AMS" hits)" = 1 ] || fail "ams hits after b's read: $(stat_of "$AMS" hits)"
[ "$(coord_reads)" = "$R1" ] || fail "b's read reached the coordinator: $R1 -> $(coord_reads)"
[ "$(stat_of "$NYC" misses)" = 0 ] || fail "nyc saw a read"
pass "b's miss was a hit at ams: no coordinator read"

# ---- a write through a: b and the tier serve the old value until their cacheTtls --------------
hput "$A/k?urlencoded=true" v2
hget "$A/k?urlencoded=true"
[ "$BODY" = v2 ] || fail "a after its write: $BODY"
hget "$B/k?urlencoded=true"
[ "$BODY" = v1 ] && [ "$CACHE" = HIT ] || fail "b after the write: $BODY $CACHE"
hget "$C/k?urlencoded=true"
[ "$BODY" = v1 ] && [ "$CACHE" = MISS ] || fail "c after the write (no purge): $BODY $CACHE"
pass "after a's write: a v2; b v1 from its cache; c v1 from the tier's copy"

sleep_until "$T0" 3600 # b's copy (3 s) is gone, the tier's (6 s) is not
hget "$B/k?urlencoded=true"
[ "$BODY" = v1 ] && [ "$CACHE" = EXPIRED ] || fail "b at +3.6 s: $BODY $CACHE"
sleep_until "$T0" 7000 # the tier's copy is gone too (b's, fetched at +3.6 s, lives to +6.6 s)
hget "$B/k?urlencoded=true"
[ "$BODY" = v2 ] || fail "b at +7 s: $BODY $CACHE"
pass "b: v1 until its cacheTtl, the tier's v1 until the tier's cacheTtl, then v2"

# ---- tier outages: its PoPs' misses fail, the other tier's PoPs read on; restart heals ---------
hput "$D/k2?urlencoded=true" x
"$EKV" fault stop ams >/dev/null || fail "fault stop ams"
hget "$A/k2?urlencoded=true"
[ "$CODE" = 503 ] || fail "a's miss with ams stopped: $CODE $BODY"
"$EKV" fault continue ams >/dev/null || fail "fault continue ams"
hget "$A/k2?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = x ] || fail "a's read with ams continued: $CODE $BODY"
pass "a stopped tier: a's miss 503; continued: read"

"$EKV" fault kill ams >/dev/null || fail "fault kill ams"
hget "$B/k2?urlencoded=true"
[ "$CODE" = 503 ] || fail "b's miss with ams killed: $CODE $BODY"
hput "$A/k3?urlencoded=true" y # writes still go to the coordinator
hget "$D/k2?urlencoded=true"
[ "$CODE" = 200 ] || fail "d (tier nyc) with ams killed: $CODE"
"$EKV" fault restart ams >/dev/null || fail "fault restart ams"
hget "$B/k2?urlencoded=true"
[ "$CODE" = 200 ] && [ "$BODY" = x ] || fail "b after ams restarted: $CODE $BODY"
"$EKV" status --json >"$H/status.json"
jq -e 'all(.tiers[]; .running)' "$H/status.json" >/dev/null || fail "ams not running after restart"
pass "a killed tier: b's miss 503, writes and nyc's PoPs go on; restart heals"

# ---- the coordinator down: a tier's fresh copies still serve its PoPs ---------------------------
"$EKV" fault kill-coordinator >/dev/null || fail "fault kill-coordinator"
for _ in $(seq 1 60); do
    [ "$(curl -s --max-time 5 "$C/_edgekv/health" | jq -r .coordinator_up)" = false ] && break
    sleep 0.05
done
[ "$(curl -s --max-time 5 "$C/_edgekv/health" | jq -r .coordinator_up)" = false ] ||
    fail "c never noticed the coordinator's death"
hget "$C/k2?urlencoded=true" # ams fetched k2 for b's read above, 6 s fresh
[ "$CODE" = 200 ] && [ "$BODY" = x ] ||
    fail "c's miss of k2 (fresh at ams), coordinator down: $CODE $BODY"
hget "$C/k9?urlencoded=true" # nothing at ams
[ "$CODE" = 503 ] || fail "c's miss of k9 (not at ams), coordinator down: $CODE $BODY"
pass "coordinator down: c reads what ams holds fresh; a key ams lacks is 503"

expect_down "$H/status.json"

# ---- tier_purge_on_write: a write drops the tier's copy ----------------------------------------
world "$H/purge.yaml" true
up "$H/purge.yaml"
hput "$D/k?urlencoded=true" v1
hget "$A/k?urlencoded=true"
[ "$BODY" = v1 ] || fail "purge world, a's read: $CODE $BODY"
hput "$A/k?urlencoded=true" v2
for _ in $(seq 1 50); do
    [ "$(stat_of "$AMS" changes_applied)" -ge 2 ] && break
    sleep 0.05
done
hget "$C/k?urlencoded=true"
[ "$BODY" = v2 ] && [ "$CACHE" = MISS ] || fail "c after the write with purge: $BODY $CACHE"
pass "with tier_purge_on_write c reads v2 at once (the tier dropped its copy)"

"$EKV" status --json >"$H/status.json"
expect_down "$H/status.json"
echo "$PASSED passed"
