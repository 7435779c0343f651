#!/usr/bin/env bash
# The topology's coordinator.durability reaches the coordinator `edgekv up` starts, and a bad
# value stops `edgekv up` before anything runs (docs/topology.md).
#   - a topology from ekv_topology without the field: the coordinator runs with
#     --durability fsync (the default spelled out);
#   - coordinator.durability: none: it runs with --durability none, and a write through a PoP
#     is acknowledged and readable at the other PoP (the setting does not break the world);
#   - coordinator.durability: always: `edgekv up` exits non-zero with "FILE:LINE:
#     coordinator.durability: 'always' is not one of fsync, wal, none" and records nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

# durability_of: the value after --durability on the running coordinator's command line.
durability_of() {
    local pid
    pid=$(jq -r .coordinator.pid "$EDGEKV_HOME/state.json")
    tr '\0' '\n' <"/proc/$pid/cmdline" | awk 'prev == "--durability" {print; exit} {prev = $0}'
}

up() { # TOPOLOGY
    "$EKV" up "$1" >"$EDGEKV_HOME/up.out" 2>&1 || fail "edgekv up $1: $(cat "$EDGEKV_HOME/up.out")"
}

down() {
    "$EKV" down >/dev/null || fail "edgekv down"
}

ekv_topology "$EDGEKV_HOME/default.yaml" a:0
up "$EDGEKV_HOME/default.yaml"
got=$(durability_of)
[ "$got" = fsync ] || fail "no durability in the topology: coordinator runs with '$got', not fsync"
pass "default: the coordinator runs with --durability fsync"
down

ekv_topology "$EDGEKV_HOME/none.yaml" coordinator.durability=none a:0 b:5:Paris
up "$EDGEKV_HOME/none.yaml"
got=$(durability_of)
[ "$got" = none ] || fail "durability none: coordinator runs with '$got'"
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$EDGEKV_HOME/state.json")
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$EDGEKV_HOME/state.json")
code=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary v1 "$A/k1")
[ "$code" = 200 ] || fail "PUT through a with durability none: $code"
for _ in $(seq 1 50); do
    [ "$(curl -s "$B/k1")" = v1 ] && break
    sleep 0.1
done
[ "$(curl -s "$B/k1")" = v1 ] || fail "the write through a never became readable at b"
pass "durability none: the coordinator runs with --durability none; writes are acknowledged and delivered"
down

ekv_topology "$EDGEKV_HOME/bad.yaml" coordinator.durability=always a:0
line=$(grep -n 'durability' "$EDGEKV_HOME/bad.yaml" | cut -d: -f1)
if "$EKV" up "$EDGEKV_HOME/bad.yaml" >"$EDGEKV_HOME/up.out" 2>&1; then
    fail "edgekv up accepted durability: always"
fi
grep -qF "$EDGEKV_HOME/bad.yaml:$line: coordinator.durability: 'always' is not one of fsync, wal, none" \
    "$EDGEKV_HOME/up.out" || fail "edgekv up said: $(cat "$EDGEKV_HOME/up.out")"
[ ! -f "$EDGEKV_HOME/state.json" ] || fail "a refused topology left a state file"
pass "durability always: refused with the file and line, nothing started"
echo "$PASSED passed"
