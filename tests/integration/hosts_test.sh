#!/usr/bin/env bash
# Hosts in the topology (docs/topology.md, hosts): a world on three loopback hosts, 127.0.0.1,
# .2 and .3 (Linux routes all of 127/8 to lo: no root, no namespaces), the coordinator and PoP
# c on h1, tier ams and ttl PoP a (reading through it) on h2, push PoP b on h3:
#   refusal  `up` of a world with a host outside loopback says how it can run and starts
#            nothing;
#   addresses every daemon binds its host's address: the coordinator's --http, --pub and
#            --router (/proc/PID/cmdline), every listening socket of every daemon (ss), and
#            the URLs and serve endpoint state.json records;
#   state    state.json lists the hosts and each process's host, status --json the hosts;
#   skew     every daemon on a host with clock_skew_ms runs with --clock-skew-ms;
#   world    probe reaches every PoP and the tier, verify finds every replica agreeing;
#   keys     the world runs with `edgekv keys`' keys: state.json says secure, every ZeroMQ
#            port greets CURVE, the coordinator's /metrics answers 401 without the token
#            (probe and verify above send it); an unusable keys.json stops `up` with its reason;
#   attach   `up --attach` of the same world described without pids (as one running
#            elsewhere): status says remote, probe, verify and link faults work, kill is
#            refused, a second up is refused, down forgets it and stops nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME

# ---- refusal: a host outside loopback ------------------------------------------------------
ekv_topology "$H/far.yaml" host=h1:127.0.0.1 host=h2:10.77.0.2 'a:5,host: h2'
if "$EKV" up "$H/far.yaml" >"$H/far.out" 2>&1; then
    fail "up of a world with host 10.77.0.2 succeeded"
fi
# shellcheck disable=SC2016 # the backquotes are the message's
grep -qF 'edgekv: host h2 (10.77.0.2) is not on loopback: run the world with `edgekv up --netns`' \
    "$H/far.out" || fail "refusal message: $(cat "$H/far.out")"
[ ! -e "$H/state.json" ] || fail "the refused world left a state.json"
[ -z "$(ls -A "$H/logs" 2>/dev/null)" ] ||
    fail "the refused world started something: $(ls "$H/logs")"
pass "up refuses a host outside loopback, with the way to run it, starting nothing"

# ---- keys: an unusable keys.json stops up, starting nothing ---------------------------------
ekv_topology "$H/one.yaml" host=h1:127.0.0.1 a:5
mkdir -p "$H/badkeys"
(umask 077 && echo '{"version": 2}' >"$H/badkeys/keys.json")
if EDGEKV_HOME=$H/badkeys "$EKV" up "$H/one.yaml" >"$H/badkeys.out" 2>&1; then
    EDGEKV_HOME=$H/badkeys "$EKV" down >/dev/null 2>&1 || true
    fail "up with an unusable keys.json succeeded"
fi
grep -qF "edgekv: $H/badkeys/keys.json: version is not 1" "$H/badkeys.out" ||
    fail "up with a bad keys.json: $(cat "$H/badkeys.out")"
if [ -e "$H/badkeys/state.json" ] || [ -n "$(ls -A "$H/badkeys/logs" 2>/dev/null)" ]; then
    fail "up with a bad keys.json started something"
fi
pass "an unusable keys.json stops up with its reason, starting nothing"

# ---- a world on three loopback hosts, with keys ---------------------------------------------
"$EKV" keys >/dev/null || fail "edgekv keys"
TOKEN=$("$EKV" keys --token)
# Time scale 20 with 1 s cacheTtls: probe waits 50 ms for the ttl PoP's and the tier's copies.
# Clocks 1 ms behind on h1 and ahead on h3: each daemon there is told so (too little to matter
# to probe; integration.skew measures skews that do).
ekv_topology "$H/world.yaml" time_scale=20 cache_ttl=1 min_cache_ttl=1 tier_cache_ttl=1 \
    coordinator.heartbeat_ms=50 host=h1:127.0.0.1:-1 host=h2:127.0.0.2 host=h3:127.0.0.3:1 \
    'tier=ams:Amsterdam,host: h2' 'a:-:Paris,host: h2,policy: ttl' 'b:10,host: h3' c:3
"$EKV" up "$H/world.yaml" >"$H/up.out" 2>&1 || fail "up: $(cat "$H/up.out")"
ST=$H/state.json

jq -e '.hosts == [{"name": "h1", "address": "127.0.0.1", "clock_skew_ms": -1},
    {"name": "h2", "address": "127.0.0.2", "clock_skew_ms": 0},
    {"name": "h3", "address": "127.0.0.3", "clock_skew_ms": 1}]
    and .coordinator.host == "h1" and .tiers[0].host == "h2"
    and ([.pops[] | {(.name): .host}] | add) == {"a": "h2", "b": "h3", "c": "h1"}
    and .pops[0].tier == "ams"' "$ST" >/dev/null || fail "state.json's hosts: $(cat "$ST")"
"$EKV" status --json | jq -e '.coordinator.host == "h1" and .tiers[0].host == "h2"
    and ([.pops[].host] == ["h2", "h3", "h1"])' >/dev/null ||
    fail "status --json: $("$EKV" status --json)"
pass "state.json lists the hosts and each process's host, status --json each host"

# arg PID OPTION: the value after OPTION on the process's command line.
arg() {
    tr '\0' '\n' <"/proc/$1/cmdline" | awk -v o="$2" 'prev == o {print; exit} {prev = $0}'
}
# expect_arg PID OPTION PREFIX: the option's value starts with PREFIX.
expect_arg() {
    local v
    v=$(arg "$1" "$2")
    [[ $v == "$3"* ]] || fail "pid $1: $2 is '$v', expected $3..."
}
# expect_listens PID ADDRESS N: the process listens on N TCP sockets, every one at ADDRESS.
# PoPs and tiers are forked by the zygote and keep its command line, so their sockets say it.
expect_listens() {
    local addrs
    addrs=$(ss -Hltnp | awk -v p="pid=$1," 'index($0, p) {sub(/:[0-9]+$/, "", $4); print $4}' |
        sort | uniq -c | awk '{print $1 "x" $2}')
    [ "$addrs" = "${3}x$2" ] || fail "pid $1 listens on '$addrs', expected $3 sockets at $2"
}
pid() { jq -r --arg n "$1" '(.pops + .tiers)[] | select(.name == $n) | .pid' "$ST"; }
url() { jq -r --arg n "$1" '(.pops + .tiers)[] | select(.name == $n) | .url' "$ST"; }

CO=$(jq -r .coordinator.pid "$ST")
expect_arg "$CO" --http 127.0.0.1:
expect_arg "$CO" --pub tcp://127.0.0.1:
expect_arg "$CO" --router tcp://127.0.0.1:
expect_listens "$CO" 127.0.0.1 3      # HTTP, PUB, ROUTER
expect_listens "$(pid ams)" 127.0.0.2 2 # HTTP, its PoPs' ROUTER
expect_listens "$(pid a)" 127.0.0.2 1
expect_listens "$(pid b)" 127.0.0.3 1
expect_listens "$(pid c)" 127.0.0.1 1
jq -e '.coordinator.url | startswith("http://127.0.0.1:")' "$ST" >/dev/null ||
    fail "coordinator URL $(jq -r .coordinator.url "$ST")"
[[ $(url ams) == http://127.0.0.2:* && $(url a) == http://127.0.0.2:* &&
    $(url b) == http://127.0.0.3:* && $(url c) == http://127.0.0.1:* ]] ||
    fail "URLs: ams $(url ams), a $(url a), b $(url b), c $(url c)"
jq -e '.tiers[0].serve | startswith("tcp://127.0.0.2:")' "$ST" >/dev/null ||
    fail "tier serves at $(jq -r '.tiers[0].serve' "$ST")"
pass "every daemon binds its own host's address"

# skewed NAME MS: the daemon's log says its clock is skewed by MS (none: it says nothing).
skewed() {
    local said
    said=$(sed -n 's/.*clock skewed by \([-+0-9.]*\) ms.*/\1/p' "$H/logs/$1.log")
    [ "$said" = "$2" ] || fail "$1's clock skewed by '$said', expected '$2'"
}
skewed coordinator -1.000
skewed c -1.000
skewed b +1.000
skewed a ""
skewed ams ""
pass "each daemon gets its host's clock_skew_ms (--clock-skew-ms)"

"$EKV" probe >"$H/probe.out" 2>&1 || fail "probe: $(cat "$H/probe.out")"
for n in a b c; do
    grep -q "^$n .* yes " "$H/probe.out" || fail "probe: $n does not serve: $(cat "$H/probe.out")"
done
grep -q "^ams (tier) " "$H/probe.out" || fail "probe did not reach ams: $(cat "$H/probe.out")"
"$EKV" verify >"$H/verify.out" 2>&1 || fail "verify: $(cat "$H/verify.out")"
grep -q "every PoP agrees with the coordinator" "$H/verify.out" ||
    fail "verify: $(cat "$H/verify.out")"
pass "probe reaches every PoP and the tier; verify passes"

jq -e '.secure == true' "$ST" >/dev/null || fail "state.json does not say secure: $(cat "$ST")"
"$EKV" status --json | jq -e '.secure == true' >/dev/null || fail "status --json: not secure"
for ep in "$(jq -r .pub "$ST")" "$(jq -r .router "$ST")" "$(jq -r '.tiers[0].serve' "$ST")"; do
    m=$(mechanism "$ep") || fail "no greeting at $ep"
    [ "$m" = CURVE ] || fail "$ep greets with '$m'"
done
CURL=(curl -s -o /dev/null -w '%{http_code}' --max-time 5)
COORD_URL=$(jq -r .coordinator.url "$ST")
code=$("${CURL[@]}" "$COORD_URL/metrics")
[ "$code" = 401 ] || fail "coordinator /metrics without the token: $code"
code=$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$COORD_URL/metrics")
[ "$code" = 200 ] || fail "coordinator /metrics with the token: $code"
pass "a world with keys: state.json says secure, PUB, ROUTER and the tier's ROUTER greet" \
    "CURVE, /metrics 401 without the token, 200 with it"

# ---- up --attach: the same world as if it ran elsewhere --------------------------------------
# WORLD.json: state.json's format without pids (a cluster's world has none here).
jq '{remote: true, time_scale, coordinator: {name: "coordinator", url: .coordinator.url},
    tiers: [.tiers[] | {name, city, url, serve, delay_ms}],
    pops: [.pops[] | {name, city, url, delay_ms, policy, tier}]}' "$ST" >"$H/remote.json"
A=$H/attached
mkdir -p "$A"
cp "$H/keys.json" "$A/keys.json" # the attached world's CLI sends its token too
att() { EDGEKV_HOME=$A "$EKV" "$@"; }
echo '{"coordinator": {"name": "coordinator", "url": "http://127.0.0.1:1"}, "pops": []}' \
    >"$H/empty.json"
if att up --attach "$H/empty.json" >"$H/attach.out" 2>&1; then fail "attached a world of no PoPs"; fi
grep -qF "empty.json: not a world to attach: it needs a coordinator and at least one PoP" \
    "$H/attach.out" || fail "attach of no PoPs: $(cat "$H/attach.out")"
[ ! -e "$A/state.json" ] || fail "a refused attach left a state.json"
att up --attach "$H/remote.json" >"$H/attach.out" 2>&1 || fail "up --attach: $(cat "$H/attach.out")"
jq -e '.remote == true and .coordinator.pid == 0 and ([.pops[].pid] == [0, 0, 0])' \
    "$A/state.json" >/dev/null || fail "attached state: $(cat "$A/state.json")"
att status >"$H/att-status.out" || fail "status of the attached world"
grep -q "remote (an attached world)" "$H/att-status.out" ||
    fail "status: $(cat "$H/att-status.out")"
grep -q "^b .* remote$" "$H/att-status.out" || fail "status: $(cat "$H/att-status.out")"
att probe >"$H/att-probe.out" 2>&1 || fail "probe of the attached world: $(cat "$H/att-probe.out")"
att verify >"$H/att-verify.out" 2>&1 || fail "verify (attached): $(cat "$H/att-verify.out")"
att fault partition b >/dev/null 2>&1 || fail "partition b of the attached world"
att fault heal b >/dev/null 2>&1 || fail "heal b of the attached world"
if att fault kill b >"$H/att-kill.out" 2>&1; then fail "kill b of an attached world succeeded"; fi
grep -qF "edgekv: b runs elsewhere (an attached world): kill, stop, continue and restart need a \
world this machine started" "$H/att-kill.out" || fail "kill's refusal: $(cat "$H/att-kill.out")"
# edgekv dev takes the attached world (its coordinator has no pid here): it goes on to look
# for the Worker's configuration, which this empty folder lacks
mkdir "$H/nodev"
(cd "$H/nodev" && EDGEKV_HOME=$A timeout 20 "$EKV" dev >"$H/att-dev.out" 2>&1) || true
! grep -q "no running world" "$H/att-dev.out" || fail "dev refuses the attached world: $(cat "$H/att-dev.out")"
if att up "$H/world.yaml" >"$H/att-up.out" 2>&1; then fail "up over an attached world"; fi
grep -q "a world is attached" "$H/att-up.out" || fail "up over it: $(cat "$H/att-up.out")"
att down >"$H/att-down.out" || fail "down of the attached world"
grep -qF "edgekv: forgot the attached world (it runs elsewhere: stop it there)" "$H/att-down.out" ||
    fail "down: $(cat "$H/att-down.out")"
[ ! -e "$A/state.json" ] || fail "down left the attached state"
for n in a b c ams; do
    kill -0 "$(pid $n)" || fail "$n stopped by the attached world's commands"
done
kill -0 "$CO" || fail "the coordinator stopped by the attached world's commands"
pass "up --attach: status says remote; probe, verify, partition, heal work; kill refused;" \
    "down forgets"

"$EKV" down >/dev/null || fail "down"
[ ! -e "$ST" ] || fail "down left state.json"
pass "down stops the three hosts' processes"
echo "$PASSED passed"
