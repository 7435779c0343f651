#!/usr/bin/env bash
# What readers see under kv, as the CLI reports it: `edgekv up` of a kv world at time scale 20
# (cacheTtl 60 s = 3 s real) with PoPs a (Frankfurt) and b (Rome) reading through tier ams.
# k=v1 is read at b with cacheTtl 120 (6 s real), then k=v2 is written through a:
#   look      a serves v2 (fresh), b and the tier still hold v1 with time left; the
#             coordinator's version is on top; tiers are marked;
#   verify    b's and the tier's older copies are allowed (kv is lenient like ttl), exit 0;
#   probe     b's served-from comes a cacheTtl after its arrival, with the reason (its cached
#             "not found" from the warm-up read expires), and the tier is probed too;
#   watch     the same for a key cached at b, live;
#   look      once b's copy of k has expired it is stale, and after a read b serves v2.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME

ekv_topology "$H/world.yaml" policy=kv time_scale=20 write_rate_limit=0 min_cache_ttl=1 \
    tier=ams:Amsterdam a:-:Frankfurt b:-:Rome
"$EKV" up "$H/world.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/state.json")
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")

put() { # URL VALUE: sets VER
    VER=$(curl -s -o /dev/null -D - -X PUT --data-binary "$2" "$1" | tr -d '\r' |
        sed -n 's/^x-edgekv-version: //Ip')
    [ -n "$VER" ] || fail "PUT $1"
}
node() { # NAME: its row of look's --json
    jq -c --arg n "$1" '.nodes[] | select(.name == $n)' "$H/look.json"
}

# ---- look, then verify, while b and the tier hold v1 -----------------------------------------
put "$A/k?urlencoded=true" v1
V1=$VER
[ "$(curl -s "$B/k?urlencoded=true&cache_ttl=120")" = v1 ] || fail "b's first read"
put "$A/k?urlencoded=true" v2
V2=$VER
"$EKV" look k --json >"$H/look.json" || fail "look --json"
jq -e --argjson v "$V2" '.coordinator.version == $v and (.nodes | length == 3)
    and ([.nodes[].name] == ["a", "ams", "b"])' "$H/look.json" >/dev/null ||
    fail "look --json: $(cat "$H/look.json")"
node a | jq -e --argjson v "$V2" '.state == "fresh" and .seq == $v and .tier == false' \
    >/dev/null || fail "a in look: $(node a)"
node b | jq -e --argjson v "$V1" '(.state == "fresh" or .state == "stale") and .seq == $v
    and .expires_in_ms > 0' >/dev/null || fail "b in look: $(node b)"
node ams | jq -e --argjson v "$V1" '.tier == true and .seq == $v' >/dev/null ||
    fail "ams in look: $(node ams)"
"$EKV" look k >"$H/look.txt" || fail "look"
grep -q "^coordinator: k is version $V2\$" "$H/look.txt" || fail "look's top: $(cat "$H/look.txt")"
grep -q '^POP  *CITY  *STATE  *VERSION  *AGE  *EXPIRES IN$' "$H/look.txt" ||
    fail "look's header: $(cat "$H/look.txt")"
grep -q "^ams (tier)  *Amsterdam  *fresh  *$V1 " "$H/look.txt" ||
    fail "the tier in look: $(cat "$H/look.txt")"
grep -q "^b  *Rome  *fresh  *$V1  .* s  *[0-9.]* s\$" "$H/look.txt" ||
    fail "b in look: $(cat "$H/look.txt")"
pass "look: a serves v2, b and tier ams still v1 with time left, the coordinator v2"

"$EKV" verify >"$H/verify.txt" || fail "verify under kv: $(cat "$H/verify.txt")"
if ! grep -q '^  b .* 1 older but never served, 0 differ' "$H/verify.txt" ||
    ! grep -q '^  ams (tier) .* 0 differ' "$H/verify.txt"; then
    fail "verify: $(cat "$H/verify.txt")"
fi
pass "verify: b's and the tier's fresh older copies are kv's, not differences"

# ---- probe: served-from after arrival, with the reason --------------------------------------
"$EKV" probe --json --from a >"$H/probe.json" || fail "probe: $(cat "$H/probe.json")"
jq -e '(.pops | length == 2) and (.tiers | length == 1) and .tiers[0].name == "ams"
    and .tiers[0].measured_ms != null' "$H/probe.json" >/dev/null ||
    fail "probe's nodes: $(cat "$H/probe.json")"
jq -e '.pops[] | select(.name == "b") | .readable and .measured_ms < 1000
    and .served_ms > .measured_ms + 30000 and .copy_expires_ms > 30000
    and (.reason | test("^cached copy expires at \\+[0-9.]+ s"))' "$H/probe.json" >/dev/null ||
    fail "b in probe: $(cat "$H/probe.json")"
jq -e '.pops[] | select(.name == "a") | .readable and .served_ms < 1000' "$H/probe.json" \
    >/dev/null || fail "a in probe: $(cat "$H/probe.json")"
"$EKV" probe --from b >"$H/probe.txt" || fail "probe (text): $(cat "$H/probe.txt")"
if ! grep -q '^POP .*SERVES NEW VALUE  *SERVED_MS  REASON$' "$H/probe.txt" ||
    ! grep -q '^a  *Frankfurt .* yes  *[0-9.]*  cached copy expires at +[0-9.]* s$' "$H/probe.txt"
then
    fail "probe's table: $(cat "$H/probe.txt")"
fi
pass "probe: b serves the change a cacheTtl after it arrived, and says why"

# ---- watch: the same, live ------------------------------------------------------------------
[ "$(curl -s -o /dev/null -w '%{http_code}' "$B/w?urlencoded=true")" = 404 ] || fail "b reads w"
"$EKV" watch w --from a --value w1 >"$H/watch.txt" || fail "watch: $(cat "$H/watch.txt")"
if ! grep -q '^served' "$H/watch.txt" ||
    ! grep -q '^  +[0-9 .]* ms  b  .*(arrived +[0-9.]* ms)  cached copy expires at +[0-9.]* s' \
        "$H/watch.txt"; then
    fail "watch: $(cat "$H/watch.txt")"
fi
pass "watch: b's arrival, then its serving the change when its cached not-found expires"

# ---- after b's copy of k expires -------------------------------------------------------------
for _ in $(seq 1 100); do
    "$EKV" look k --json >"$H/look.json"
    node b | jq -e '.state == "stale"' >/dev/null && break
    sleep 0.1
done
node b | jq -e --argjson v "$V1" '.state == "stale" and .seq == $v and .expires_in_ms <= 0' \
    >/dev/null || fail "b after its cacheTtl: $(node b)"
[ "$(curl -s "$B/k?urlencoded=true")" = v2 ] || fail "b does not read v2 after its cacheTtl"
"$EKV" look k --json >"$H/look.json"
node b | jq -e --argjson v "$V2" '.state == "fresh" and .seq == $v' >/dev/null ||
    fail "b after a read: $(node b)"
pass "look: b's copy went stale at its cacheTtl, and a read made b serve v2"

echo "$PASSED passed"
