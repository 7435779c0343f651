#!/usr/bin/env bash
# The coordinator's PUB over epgm (issue 31: one send for every PoP), end to end, in a network
# namespace of the test's own (`unshare -n`: its own loopback, its own iptables, gone with
# the test's last process).
#   up/down: with transport epgm and setup, `up` turns multicast on at lo and routes
#        224.0.0.0/4 there, publishes on epgm://127.0.0.1;GROUP:PORT, and PoPs and the tier
#        subscribe there (their command lines say so); `down` undoes both changes.
#   probe, look, verify: a change reaches every PoP and the tier; every replica agrees.
#   loss: LOSS of the multicast packets are dropped at random (by default a share drawn from
#        5-20%, printed; LOSS=0 for none), and every one for 1 s (BLACKOUT=1), while 600 keys
#        are written in 24 bulk writes. PGM repairs most by NAK from the coordinator's window
#        (rate x recovery interval, about 8,000 packets by default); what it gives up on,
#        libzmq 4.3.4's receiver may splice into frames of bytes from different changes: their
#        checksum refuses them (counted malformed, printed), their gap is caught up over TCP.
#        Every PoP and the tier reach the coordinator's sequence, every PoP serves all 600 keys
#        with the coordinator's value, the push-all replica from its cache, and verify passes
#        (docs/performance.md, "Fan-out over epgm").
#   rejoin: the replica is killed while 100 more keys are written, and restarted; the
#        coordinator is killed and restarted on its recorded endpoint: the restarted replica
#        subscribes to the group again, catches up (hello, snapshot and log over TCP) and
#        serves every key; every PoP and the tier hear the new coordinator's changes.
#   experiment: `edgekv run` of a small experiment (push and push-all, a PoP stopped and
#        continued) on the epgm world, with --check, its worlds publishing over epgm.
#   refusal: as an unprivileged user, `up` with setup says it cannot turn multicast on, names
#        the reason, and runs the world on TCP (probe works); nothing was changed. An
#        endpoint the coordinator cannot bind likewise: its reason, then TCP.
# Needs root (a namespace, iptables) and a libzmq with PGM; otherwise skipped (77).
set -euo pipefail
if [ -z "${EKV_EPGM_NETNS:-}" ]; then
    if [ "$(id -u)" != 0 ] || ! command -v unshare ip iptables setpriv >/dev/null; then
        echo "SKIP: needs root, unshare, ip, iptables and setpriv"
        exit 77
    fi
    EKV_EPGM_NETNS=1 exec unshare -n "${BASH:-bash}" "$0" "$@"
fi
ip link set lo up
source "$(dirname "$0")/lib.sh" "$1" "$2"
chmod 755 "$EDGEKV_HOME"
trap 'iptables -F INPUT 2>/dev/null || true; ekv_cleanup' EXIT

NS=00000000000000000000000000000000
LOSS=${LOSS:-$(awk -v r="$RANDOM" 'BEGIN { printf "%.2f", 0.05 + 0.15 * r / 32767 }')}
BLACKOUT=${BLACKOUT:-1}
GROUP=239.192.31.1

# The world: two push PoPs (0 and 20 ms), a push-all replica, a ttl PoP reading through a
# regional tier; time_scale 60, so probe waits for cached copies a second, not a minute.
world() { # FILE TRANSPORT
    ekv_topology "$1" "coordinator.transport=$2" pin_cpus=false time_scale=60 \
        a:0 b:20:Madrid c:0,'policy: push-all' 'd:-:Paris,policy: ttl' tier=ams:Amsterdam
}
mcast_on() { ip link show lo | head -1 | grep -q MULTICAST; }
routed() { ip route show 224.0.0.0/4 | grep -q 'dev lo'; }
# 1 when process $1 holds a UDP socket on port $2 (a PGM receiver's or sender's).
on_udp_port() {
    local inodes hex
    inodes=$(find "/proc/$1/fd" -lname 'socket:*' -printf '%l\n' 2>/dev/null | tr -dc '0-9\n')
    hex=$(printf ':%04X ' "$2")
    awk -v p="$hex" 'index($2 " ", p) { print $10 }' /proc/net/udp | grep -qxF -f - <(echo "$inodes")
}
status() { "$EKV" status --json >"$EDGEKV_HOME/status.json"; }

# ---- up: set-up, endpoints ------------------------------------------------------------------
world "$EDGEKV_HOME/epgm.yaml" "{kind: epgm, group: $GROUP, setup: true}"
! mcast_on && ! routed || fail "lo has multicast or a multicast route before up"
"$EKV" up "$EDGEKV_HOME/epgm.yaml" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
if grep -q 'cannot publish over epgm (cannot bind' "$EDGEKV_HOME/up.out"; then
    echo "SKIP: this libzmq cannot publish over epgm: $(grep epgm "$EDGEKV_HOME/up.out")"
    exit 77
fi
grep -q "published on epgm://127.0.0.1;$GROUP:" "$EDGEKV_HOME/up.out" ||
    fail "up does not publish over epgm: $(cat "$EDGEKV_HOME/up.out")"
mcast_on && routed || fail "up did not set up multicast on lo: $(ip link show lo; ip route)"
status
PUB=$(jq -r '.pub' "$EDGEKV_HOME/state.json")
[[ $PUB == "epgm://127.0.0.1;$GROUP:"* ]] || fail "recorded PUB $PUB"
for pid in $(jq -r '.coordinator.pid, .pops[].pid, .tiers[].pid' "$EDGEKV_HOME/state.json"); do
    on_udp_port "$pid" "${PUB##*:}" || fail "process $pid has no socket on the group's port"
done
CPID=$(jq -r .coordinator.pid "$EDGEKV_HOME/state.json")
tr '\0' ' ' <"/proc/$CPID/cmdline" | grep -q -- '--router tcp://' ||
    fail "the coordinator's ROUTER is not on TCP"
pass "up: multicast on lo, PUB $PUB, 4 PoPs and the tier subscribe there, ROUTER on TCP"

# ---- probe, look, verify --------------------------------------------------------------------
"$EKV" probe >"$EDGEKV_HOME/probe.out" 2>&1 || fail "probe: $(cat "$EDGEKV_HOME/probe.out")"
for name in a b c d ams; do
    grep -Eq "^$name( \(tier\))? +[A-Za-z]+ +[0-9.]+ +[0-9.]+ " "$EDGEKV_HOME/probe.out" ||
        fail "probe has no arrival at $name: $(cat "$EDGEKV_HOME/probe.out")"
done
pass "probe: the change arrived at every PoP and the tier"
key=$(sed -n 's/^probe: wrote \([^ ]*\) .*/\1/p' "$EDGEKV_HOME/probe.out")
"$EKV" look "$key" >"$EDGEKV_HOME/look.out" 2>&1 || fail "look: $(cat "$EDGEKV_HOME/look.out")"
for name in a b c; do
    grep -Eq "^$name " "$EDGEKV_HOME/look.out" || fail "look: no $name: $(cat "$EDGEKV_HOME/look.out")"
done
"$EKV" verify >"$EDGEKV_HOME/verify.out" 2>&1 || fail "verify: $(cat "$EDGEKV_HOME/verify.out")"
pass "look and verify agree"

# ---- loss: gaps PGM cannot repair are caught up over TCP -------------------------------------
"$EKV" down >/dev/null
! mcast_on && ! routed || fail "down left multicast on lo: $(ip link show lo; ip route)"
pass "down: multicast off at lo, no 224.0.0.0/4 route"

world "$EDGEKV_HOME/loss.yaml" "{kind: epgm, group: $GROUP, setup: true}"
"$EKV" up "$EDGEKV_HOME/loss.yaml" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
status
PUB2=$(jq -r .pub "$EDGEKV_HOME/state.json")
C=$(jq -r '.coordinator.url' "$EDGEKV_HOME/status.json")
REPLICA=$(jq -r '.pops[] | select(.name == "c") | .url' "$EDGEKV_HOME/status.json")
URLS=$(jq -r '.pops[].url, .tiers[].url' "$EDGEKV_HOME/status.json")
bulk() { # FIRST: 25 keys from FIRST
    jq -nc --argjson f "$1" '[range($f; $f + 25) | {key: "loss-\(.)", value: "value-\(.)"}]' |
        curl -sf -X PUT -H 'Content-Type: application/json' --data-binary @- \
            "$C/client/v4/accounts/x/storage/kv/namespaces/$NS/bulk" | jq -e .success >/dev/null ||
        fail "bulk write from $1"
}
iptables -A INPUT -d "$GROUP" -m statistic --mode random --probability "$LOSS" -j DROP
for i in $(seq 0 7); do bulk $((i * 25)); sleep 0.1; done
[ "$BLACKOUT" = 1 ] && iptables -I INPUT -d "$GROUP" -j DROP # everything, for 1 s
for i in $(seq 8 15); do bulk $((i * 25)); sleep 0.12; done
[ "$BLACKOUT" = 1 ] && iptables -D INPUT -d "$GROUP" -j DROP
for i in $(seq 16 23); do bulk $((i * 25)); sleep 0.1; done
dropped=$(iptables -L INPUT -v -x -n | awk '/statistic/ { print $1 }')
iptables -F INPUT
latest=$(curl -sf "$C/health" | jq -r .seq)
[ "$latest" -ge 600 ] || fail "coordinator seq $latest after 600 writes"
t0=$(date +%s%N)
for url in $URLS; do
    applied=0
    for _ in $(seq 1 600); do
        applied=$(curl -sf "$url/_edgekv/health" | jq -r .applied_seq) || applied=0
        [ "$applied" -ge "$latest" ] && break
        sleep 0.1
    done
    echo "$url at seq $applied after $((($(date +%s%N) - t0) / 1000000)) ms"
    [ "$applied" -ge "$latest" ] || fail "$url reached seq $applied of $latest within 60 s:" \
        "$(curl -sf "$url/_edgekv/health") $(curl -sf "$url/stats")"
done
malformed=0
for url in $URLS; do
    malformed=$((malformed + $(curl -sf "$url/stats" | jq -r .malformed)))
done
# Every PoP serves every key with the coordinator's value: a change spliced from two would
# have the version of one and bytes of another, which verify (versions only) cannot see.
seq 0 599 | sed 's/.*/value-& 200/' >"$EDGEKV_HOME/want.txt"
origin0=$(curl -sf "$REPLICA/stats" | jq -r .origin_reads)
for url in $(jq -r '.pops[].url' "$EDGEKV_HOME/status.json"); do
    urls=()
    for i in $(seq 0 599); do urls+=("$url/loss-$i?urlencoded=true"); done
    curl -s -w ' %{http_code}\n' "${urls[@]}" >"$EDGEKV_HOME/all.txt" || fail "reading the keys"
    diff -q "$EDGEKV_HOME/want.txt" "$EDGEKV_HOME/all.txt" >/dev/null ||
        fail "$url serves: $(diff "$EDGEKV_HOME/want.txt" "$EDGEKV_HOME/all.txt" | head -5)"
done
[ "$(curl -sf "$REPLICA/stats" | jq -r .origin_reads)" = "$origin0" ] ||
    fail "the replica read keys from the coordinator: it had lost them"
"$EKV" verify >"$EDGEKV_HOME/verify.out" 2>&1 || fail "verify: $(cat "$EDGEKV_HOME/verify.out")"
pass "loss ($dropped packets dropped at random (LOSS=$LOSS), then 1 s of all): every PoP and" \
    "the tier at seq $latest ($malformed malformed dropped), every PoP serves all 600 keys" \
    "with their values, the replica from its cache, verify passes"

# ---- rejoin: a restarted PoP and a restarted coordinator ------------------------------------
"$EKV" fault kill c >/dev/null || fail "fault kill c"
for i in 24 25 26 27; do bulk $((i * 25)); done
"$EKV" fault restart c >/dev/null || fail "fault restart c"
"$EKV" fault kill-coordinator >/dev/null || fail "fault kill-coordinator"
"$EKV" fault restart-coordinator >/dev/null || fail "fault restart-coordinator"
status
C=$(jq -r '.coordinator.url' "$EDGEKV_HOME/status.json")
REPLICA=$(jq -r '.pops[] | select(.name == "c") | .url' "$EDGEKV_HOME/status.json")
[ "$(jq -r .pub "$EDGEKV_HOME/state.json")" = "$PUB2" ] || fail "the coordinator moved its PUB"
bulk 700
latest=$(curl -sf "$C/health" | jq -r .seq)
for url in $URLS; do
    applied=0
    for _ in $(seq 1 100); do
        applied=$(curl -sf "$url/_edgekv/health" | jq -r .applied_seq) || applied=0
        [ "$applied" -ge "$latest" ] && break
        sleep 0.1
    done
    [ "$applied" -ge "$latest" ] || fail "after the restarts $url reached seq $applied of $latest"
done
urls=()
for i in $(seq 0 724); do urls+=("$REPLICA/loss-$i?urlencoded=true"); done
curl -s -w ' %{http_code}\n' "${urls[@]}" >"$EDGEKV_HOME/all.txt" || fail "reading the keys"
seq 0 724 | sed 's/.*/value-& 200/' >"$EDGEKV_HOME/want.txt"
diff -q "$EDGEKV_HOME/want.txt" "$EDGEKV_HOME/all.txt" >/dev/null ||
    fail "the restarted replica serves: $(diff "$EDGEKV_HOME/want.txt" "$EDGEKV_HOME/all.txt" | head -5)"
"$EKV" verify >"$EDGEKV_HOME/verify.out" 2>&1 || fail "verify: $(cat "$EDGEKV_HOME/verify.out")"
pass "rejoin: the restarted replica serves all 725 keys, every PoP and the tier follow the" \
    "restarted coordinator over $PUB2 to seq $latest"
"$EKV" down >/dev/null

# ---- an experiment on the epgm world ---------------------------------------------------------
cat >"$EDGEKV_HOME/exp.yaml" <<'EOF'
name: epgm
duration_s: 8
time_scale: 1
workload:
  keys: 50
  write_rate: 20
  writers: [a]
  read_rate: 10
  cache_ttl: 30
policies: [push, push-all]
faults:
  - {at_s: 2, action: stop, pop: b}
  - {at_s: 4, action: continue, pop: b}
assert:
  - {metric: visibility_p50_ms, pop: a, op: "<", value: 5}
  - {metric: failed_reads, policy: push-all, op: "<", value: 100}
EOF
"$EKV" run "$EDGEKV_HOME/exp.yaml" --topology "$EDGEKV_HOME/epgm.yaml" --check \
    --out "$EDGEKV_HOME/results" >"$EDGEKV_HOME/run.out" 2>&1 ||
    fail "run: $(tail -20 "$EDGEKV_HOME/run.out")"
for policy in push push-all; do
    grep -qs "coordinator up: .* pub epgm://127.0.0.1;$GROUP:" \
        "$EDGEKV_HOME/results/state-$policy/logs/coordinator.log" ||
        fail "the $policy run did not publish over epgm"
done
jq -e '[.assertions[].ok] | all' "$EDGEKV_HOME/results/results.json" >/dev/null ||
    fail "assertions: $(jq -c .assertions "$EDGEKV_HOME/results/results.json")"
! mcast_on && ! routed || fail "run left multicast on lo"
pass "experiment: push and push-all over epgm, a PoP stopped and continued, assertions hold"

# ---- refusal: without root, TCP ---------------------------------------------------------------
chmod -R a+rwX "$EDGEKV_HOME"
setpriv --reuid=65534 --regid=65534 --clear-groups env EDGEKV_HOME="$EDGEKV_HOME" \
    "$EKV" up "$EDGEKV_HOME/epgm.yaml" >"$EDGEKV_HOME/up.out" 2>&1 ||
    fail "unprivileged up: $(cat "$EDGEKV_HOME/up.out")"
grep -q 'cannot publish over epgm: cannot turn multicast on at lo: .*(needs root); staying on TCP' \
    "$EDGEKV_HOME/up.out" || fail "no clear refusal: $(cat "$EDGEKV_HOME/up.out")"
[[ $(jq -r .pub "$EDGEKV_HOME/state.json") == tcp://127.0.0.1:* ]] ||
    fail "the refused world does not publish over TCP: $(jq -r .pub "$EDGEKV_HOME/state.json")"
! mcast_on && ! routed || fail "the refused up changed lo"
"$EKV" probe >"$EDGEKV_HOME/probe.out" 2>&1 || fail "probe on TCP: $(cat "$EDGEKV_HOME/probe.out")"
setpriv --reuid=65534 --regid=65534 --clear-groups env EDGEKV_HOME="$EDGEKV_HOME" \
    "$EKV" down >/dev/null
pass "without root: up says why and runs on TCP, lo untouched"

# A PUB the coordinator cannot bind (no interface has 127.0.0.9) is said, then TCP.
world "$EDGEKV_HOME/nobind.yaml" "{kind: epgm, group: $GROUP, interface: 127.0.0.9}"
"$EKV" up "$EDGEKV_HOME/nobind.yaml" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
grep -q 'cannot publish over epgm (cannot bind epgm://127.0.0.9;.*); staying on TCP' \
    "$EDGEKV_HOME/up.out" || fail "no clear refusal: $(cat "$EDGEKV_HOME/up.out")"
[[ $(jq -r .pub "$EDGEKV_HOME/state.json") == tcp://127.0.0.1:* ]] || fail "not on TCP"
"$EKV" probe >"$EDGEKV_HOME/probe.out" 2>&1 || fail "probe on TCP: $(cat "$EDGEKV_HOME/probe.out")"
"$EKV" down >/dev/null
pass "an endpoint the coordinator cannot bind: up gives its reason and runs on TCP"

echo "$PASSED passed"
