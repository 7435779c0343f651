#!/usr/bin/env bash
# Hosts as network namespaces on one machine (`edgekv up --netns`, docs/topology.md): three
# hosts on 10.77.0.0/24, h1 the coordinator, h2 a regional tier and a ttl PoP reading through
# it, h3 two push PoPs. The test runs in a network and mount namespace of its own (`unshare -n
# -m`: its bridge, veths and namespaces vanish with it even if it dies).
#   refusals  in the machine's initial network namespace (before the re-exec) and without
#             root `up --netns` says so;
#             without keys it says to run `edgekv keys`; `--netem` on a kernel
#             without netem says so, and for a PoP whose delay is less than its hosts'
#             netem delay; none leaves a link or a namespace;
#   places    each daemon runs in its host's namespace (/proc/PID/ns/net), the hosts'
#             addresses exist only there (the launcher has the bridge's), state.json records
#             the bridge, each namespace and veth;
#   secure    every ZeroMQ port greets CURVE; the coordinator's /metrics and a PoP's /stats
#             answer 401 without the token; probe and verify pass (they send it);
#   partition `edgekv fault partition h3` (its veth down): its PoPs count the coordinator
#             gone within 2 s while a write through h2's PoP succeeds; `heal h3`: they reach
#             the coordinator's sequence within 3 s, verify passes;
#   down      stops every process and leaves no ekv* link and no edgekv-* namespace.
# Needs root, unshare and ip; otherwise skipped (77).
set -euo pipefail
if [ -z "${EKV_HOSTS_NETNS:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare ip mount >/dev/null; then
        echo "SKIP: needs root, unshare and ip"
        exit 77
    fi
    # Started in the machine's initial network namespace (inode 0xEFFFFFF9), `up --netns` is
    # refused there before anything is made (no keys either, so nothing could be made anyway).
    if [ "$(stat -L -c %i /proc/self/ns/net)" = 4026531833 ]; then
        home=$(mktemp -d /tmp/edgekv-test.XXXXXX)
        printf '%s\n' 'hosts: [{name: h1, address: 10.77.0.1}]' 'pops: [{name: a, delay_ms: 1}]' \
            >"$home/w.yaml"
        out=$(EDGEKV_HOME=$home/home "$1/edgekv" up "$home/w.yaml" --netns 2>&1) && rc=0 || rc=$?
        rm -rf "$home"
        if [ "$rc" = 0 ] || [[ $out != *"edgekv: --netns adds a bridge and routes to the namespace \
edgekv runs in, and this is the host's; run it in one of its own:"* ]]; then
            echo "FAIL: up --netns in the host's namespace: $rc $out" >&2
            exit 1
        fi
        echo "ok: up --netns refuses the host's own network namespace"
    fi
    EKV_HOSTS_NETNS=1 exec unshare -n -m "${BASH:-bash}" "$0" "$@"
fi
# Namespaces `ip netns add` makes are files under /run/netns: a tmpfs of this mount namespace.
mount --make-rprivate /
mkdir -p /run/netns
mount -t tmpfs tmpfs /run/netns
ip link set lo up
source "$(dirname "$0")/lib.sh" "$1" "$2"
H=$EDGEKV_HOME
ST=$H/state.json

# nothing_left: no ekv* link and no namespace remain.
nothing_left() {
    local links
    links=$(ip -o link show | awk -F': ' '$2 ~ /^ekv/ {print $2}')
    [ -z "$links" ] || fail "links left: $links"
    [ -z "$(ip netns list)" ] || fail "namespaces left: $(ip netns list)"
}

ekv_topology "$H/world.yaml" time_scale=20 cache_ttl=1 min_cache_ttl=1 tier_cache_ttl=1 \
    coordinator.heartbeat_ms=50 pin_cpus=false host=h1:10.77.0.1 host=h2:10.77.0.2 \
    host=h3:10.77.0.3 'tier=ams:Amsterdam,host: h2' 'a:-:Paris,host: h2,policy: ttl' \
    'b:10,host: h3' 'c:0,host: h3'

# ---- refusals ----------------------------------------------------------------------------------
# As a user without root: refused before anything is made (the host's namespace: above).
if command -v setpriv >/dev/null; then
    mkdir -m 755 "$H/user" && chmod 711 "$H" && cp "$H/world.yaml" "$H/user/"
    if EDGEKV_HOME=$H/user/home setpriv --reuid=65534 --regid=65534 --clear-groups \
        "$EKV" up "$H/user/world.yaml" --netns >"$H/user.out" 2>&1; then
        fail "up --netns without root"
    fi
    grep -qF "edgekv: --netns needs root (CAP_NET_ADMIN and CAP_SYS_ADMIN)" "$H/user.out" ||
        fail "refusal without root: $(cat "$H/user.out")"
fi
if "$EKV" up "$H/world.yaml" --netns >"$H/nokeys.out" 2>&1; then fail "up --netns without keys"; fi
# shellcheck disable=SC2016 # the backquotes are the message's
grep -qF 'edgekv: host h1 (10.77.0.1) is not on loopback: run `edgekv keys` first' \
    "$H/nokeys.out" || fail "refusal without keys: $(cat "$H/nokeys.out")"
nothing_left
"$EKV" keys >/dev/null || fail "edgekv keys"
TOKEN=$("$EKV" keys --token)
if "$EKV" up "$H/world.yaml" --netns --netem >"$H/netem.out" 2>&1; then
    "$EKV" down >/dev/null 2>&1 || true
    echo "note: this kernel has netem; its refusal is not checked here"
else
    grep -q "edgekv: this kernel has no netem (tc: .*): --netem cannot run here" "$H/netem.out" ||
        fail "--netem refusal: $(cat "$H/netem.out")"
    [ ! -e "$ST" ] || fail "a refused --netem left state.json"
fi
nothing_left
# A PoP nearer than the kernel's delay on its way from the coordinator (h3's 50 ms).
printf '%s\n' 'hosts:' '  - {name: h1, address: 10.77.0.1}' \
    '  - {name: h3, address: 10.77.0.3, delay_ms: 50}' 'pops: [{name: b, delay_ms: 10, host: h3}]' \
    >"$H/near.yaml"
if "$EKV" up "$H/near.yaml" --netns --netem >"$H/near.out" 2>&1; then fail "up of near.yaml"; fi
grep -qF "edgekv: PoP b's delay (10 ms) is less than the netem delay of its hosts (50 ms)" \
    "$H/near.out" || fail "near PoP's refusal: $(cat "$H/near.out")"
nothing_left
pass "up --netns refuses without root, without keys, --netem without netem or below a PoP's" \
    "delay; nothing is left"

# ---- the world -------------------------------------------------------------------------------
"$EKV" up "$H/world.yaml" --netns >"$H/up.out" 2>&1 || fail "up --netns: $(cat "$H/up.out")"
jq -e '.secure == true and .netns.address == "10.77.0.254/24"
    and ([.netns.hosts[].host] == ["h1", "h2", "h3"])
    and ([.netns.hosts[].partitioned] == [false, false, false])' "$ST" >/dev/null ||
    fail "state.json: $(cat "$ST")"
"$EKV" status --json | jq -e '.secure and .netns.address == "10.77.0.254/24"' >/dev/null ||
    fail "status --json: $("$EKV" status --json)"
ns_of() { jq -r --arg h "$1" '.netns.hosts[] | select(.host == $h) | .ns' "$ST"; }
ino() { stat -L -c %i "$1"; }
pid() { jq -r --arg n "$1" '(.pops + .tiers)[] | select(.name == $n) | .pid' "$ST"; }
url() { jq -r --arg n "$1" '(.pops + .tiers)[] | select(.name == $n) | .url' "$ST"; }
in_ns() { # PID HOST: the process runs in the host's namespace
    [ "$(ino "/proc/$1/ns/net")" = "$(ino "/run/netns/$(ns_of "$2")")" ] ||
        fail "pid $1 is not in $2's namespace"
}
in_ns "$(jq -r .coordinator.pid "$ST")" h1
in_ns "$(pid ams)" h2
in_ns "$(pid a)" h2
in_ns "$(pid b)" h3
in_ns "$(pid c)" h3
[ "$(ino /proc/self/ns/net)" != "$(ino "/run/netns/$(ns_of h1)")" ] || fail "edgekv's own namespace"
! ip -4 -o addr show | grep -q '10\.77\.0\.[123]/' || fail "a host's address in the launcher's"
ip -4 -o addr show | grep -q '10\.77\.0\.254/24' || fail "no bridge address here"
ip netns exec "$(ns_of h3)" ip -4 -o addr show eth0 | grep -q '10\.77\.0\.3/24' ||
    fail "h3 has no 10.77.0.3"
pass "each daemon runs in its host's namespace; the hosts' addresses exist only there"

for ep in "$(jq -r .pub "$ST")" "$(jq -r .router "$ST")" "$(jq -r '.tiers[0].serve' "$ST")"; do
    [[ $ep == tcp://10.77.0.[12]:* ]] || fail "endpoint $ep is not on its host"
    m=$(mechanism "$ep") || fail "no greeting at $ep"
    [ "$m" = CURVE ] || fail "$ep greets with '$m'"
done
CURL=(curl -s -o /dev/null -w '%{http_code}' --max-time 5)
C=$(jq -r .coordinator.url "$ST")
[ "$("${CURL[@]}" "$C/metrics")" = 401 ] || fail "coordinator /metrics without the token"
[ "$("${CURL[@]}" "$(url b)/stats")" = 401 ] || fail "b's /stats without the token"
[ "$("${CURL[@]}" -H "Authorization: Bearer $TOKEN" "$(url b)/stats")" = 200 ] ||
    fail "b's /stats with the token"
"$EKV" probe >"$H/probe.out" 2>&1 || fail "probe: $(cat "$H/probe.out")"
"$EKV" verify >"$H/verify.out" 2>&1 || fail "verify: $(cat "$H/verify.out")"
pass "every ZeroMQ port greets CURVE, admin 401 without the token; probe and verify pass"

# ---- partition h3 ----------------------------------------------------------------------------
"$EKV" fault partition h3 >/dev/null || fail "fault partition h3"
jq -e '[.netns.hosts[].partitioned] == [false, false, true]' "$ST" >/dev/null ||
    fail "state.json after partition: $(jq -c .netns "$ST")"
NS3=$(ns_of h3)
# up_in_h3 NAME: the PoP's coordinator_up, asked from inside h3 (the launcher is cut off too).
up_in_h3() { ip netns exec "$NS3" curl -sf --max-time 2 "$(url "$1")/_edgekv/health" | jq -r .coordinator_up; }
lost=""
for _ in $(seq 1 20); do
    [ "$(up_in_h3 b)" = false ] && [ "$(up_in_h3 c)" = false ] && lost=1 && break
    sleep 0.1
done
[ -n "$lost" ] || fail "h3's PoPs still hear the coordinator 2 s into the partition"
for i in 1 2 3; do
    code=$("${CURL[@]}" -X PUT --data-binary "v$i" "$(url a)/during-$i")
    [ "$code" = 200 ] || fail "write $i through a (h2) during the partition: $code"
done
pass "partition h3: its PoPs lose the coordinator within 2 s; writes through h2 succeed"

"$EKV" fault heal h3 >/dev/null || fail "fault heal h3"
SEQ=$(curl -sf "$C/health" | jq -r .seq)
for n in b c; do
    poll_applied "$(url "$n")" "$SEQ" 30 || fail "$n at $APPLIED of $SEQ 3 s after heal"
done
"$EKV" verify >"$H/verify2.out" 2>&1 || fail "verify after heal: $(cat "$H/verify2.out")"
pass "heal h3: its PoPs catch up to sequence $SEQ; verify passes"

# ---- down --------------------------------------------------------------------------------------
cp "$ST" "$H/status.json"
expect_down "$H/status.json"
nothing_left
pass "down leaves no link and no namespace"
echo "$PASSED passed"
