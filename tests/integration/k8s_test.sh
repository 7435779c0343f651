#!/usr/bin/env bash
# integration.k8s: a world exported for `podman kube play` (docs/deploy.md) runs from an image
# of the built binaries and the unchanged CLI works on it through `edgekv up --attach`.
#   image    scripts/image: FROM scratch, the binaries and their libraries
#   export   `edgekv export k8s --podman`: the YAML, podman-secret.json, world.json, keys.json
#   play     podman secret create + kube play on a network of the test's own; every container
#            runs; no argument of any container holds a secret
#   attach   `edgekv up --attach world.json`: probe reaches every PoP and the tier, verify passes;
#            a PoP's and the tier's admin paths and the coordinator's /metrics answer 401
#            without the token (200 with it)
#   down     kube down; the claim's and the ConfigMap's volumes, the secret, the network and
#            the image removed (and the pause image kube play built, unless it was there
#            before): nothing named after the run is left in podman.
# Needs root, podman, runc, catatonit and namespaces (not inside an unprivileged container):
# skipped (77) without them. Its own CONTAINERS_CONF (runc, cgroupfs, ulimits the kernel
# allows), nothing system-wide touched; names unique to the run, so it runs beside anything.
set -euo pipefail
for c in podman runc catatonit curl jq python3; do
    command -v "$c" >/dev/null || { echo "SKIP: $c is not installed (scripts/setup)"; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (podman kube play with hostPorts)"; exit 77; }
# root in an unprivileged container (scripts/fresh-debian's) cannot make the pod's namespaces
unshare -m -n true 2>/dev/null || { echo "SKIP: cannot make namespaces here"; exit 77; }
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
ID=ekvk8s-$$-$RANDOM # every podman object of the run is named after it
TAG=localhost/$ID:test
NET=$ID-net
export CONTAINERS_CONF=$H/containers.conf
cat >"$CONTAINERS_CONF" <<CONF
[containers]
# runc refuses limits above what this machine's processes may have
default_ulimits = ["nofile=$(ulimit -Hn):$(ulimit -Hn)", "nproc=32768:32768"]
pids_limit = 0
[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
events_logger = "file"
CONF
podman info >"$H/info.out" 2>&1 || { echo "SKIP: podman info: $(tail -1 "$H/info.out")"; exit 77; }

# kube play builds podman's pause image (catatonit) the first time: the run's if not there yet.
PAUSE=""
images=$(podman images --format '{{.Repository}}') # whole: grep -q would cut the pipe
grep -q '^localhost/podman-pause$' <<<"$images" || PAUSE=localhost/podman-pause

# What the run made in podman, removed whatever happened (then lib.sh's own cleanup).
podman_cleanup() {
    set +e
    [ -z "$PAUSE" ] || podman images --format '{{.Repository}}:{{.Tag}}' |
        grep "^$PAUSE:" | xargs -r podman rmi >/dev/null 2>&1
    [ ! -f "$H/pm/edgekv-podman.yaml" ] ||
        podman kube down "$H/pm/edgekv-podman.yaml" >/dev/null 2>&1
    podman pod rm -f "$ID-world" >/dev/null 2>&1
    podman volume rm -f "$ID-coordinator-db" "$ID-world" >/dev/null 2>&1
    podman secret rm "$ID-keys" >/dev/null 2>&1
    podman network rm -f "$NET" >/dev/null 2>&1
    podman rmi -f "$TAG" >/dev/null 2>&1
    set -e
}
trap 'podman_cleanup; ekv_cleanup' EXIT

# Host ports: base (coordinator), base + 10 (tier), base + 100.. (PoPs), free on 127.0.0.1.
BASE=$(python3 - <<'PY'
import random, socket
for _ in range(200):
    b = random.randrange(20000, 60000)
    ok = True
    for p in (b, b + 10, b + 100, b + 101):
        s = socket.socket()
        try:
            s.bind(("127.0.0.1", p))
        except OSError:
            ok = False
        s.close()
    if ok:
        print(b)
        break
PY
)
[ -n "$BASE" ] || fail "no free ports for the pod"

# ---- image ------------------------------------------------------------------------------------
"$SRC/scripts/image" --bin "$BIN" --tag "$TAG" >"$H/image.out" 2>&1 ||
    fail "scripts/image: $(cat "$H/image.out")"
podman image exists "$TAG" || fail "scripts/image made no $TAG"
pass "scripts/image: an image of the built binaries"

# ---- export -----------------------------------------------------------------------------------
# A tier with a ttl PoP reading through it and a push PoP; time_scale 60: the ttl PoP's copy
# (60 s simulated) expires within a second of real time, so probe's wait for it is short.
cat >"$H/world.yaml" <<'YAML'
coordinator: {city: Frankfurt, iata: FRA, lat: 50.1109, lon: 8.6821, http_port: 0, pub_port: 0,
              router_port: 0, heartbeat_ms: 50}
defaults: {policy: push, cache_ttl: 60, time_scale: 60, http_port_base: 0}
tiers:
  - {name: ams, city: Amsterdam, iata: AMS, lat: 52.3105, lon: 4.7683}
pops:
  - {name: fra, city: Frankfurt, iata: FRA, lat: 50.0379, lon: 8.5622}
  - {name: cdg, city: Paris, iata: CDG, lat: 49.0097, lon: 2.5479, policy: ttl}
YAML
if "$EKV" export k8s "$H/world.yaml" --podman --out "$H/pm" >"$H/export.out" 2>&1; then
    fail "export without keys succeeded"
fi
# shellcheck disable=SC2016 # the backquotes are the message's
grep -qF 'edgekv export needs the world'"'"'s keys: run `edgekv keys`' "$H/export.out" ||
    fail "export without keys: $(cat "$H/export.out")"
"$EKV" keys >/dev/null || fail "edgekv keys"
TOKEN=$("$EKV" keys --token)
"$EKV" export k8s "$H/world.yaml" --podman --out "$H/pm" --name "$ID" --image "$TAG" \
    --port-base "$BASE" >"$H/export.out" 2>&1 || fail "export: $(cat "$H/export.out")"
for f in edgekv-podman.yaml podman-secret.json world.json keys.json; do
    [ -s "$H/pm/$f" ] || fail "export wrote no $f"
done
[ "$(stat -c %a "$H/pm/podman-secret.json")" = 600 ] || fail "podman-secret.json is not 0600"
! grep -qF "$TOKEN" "$H/pm/edgekv-podman.yaml" || fail "the token is in the YAML"
pass "export k8s --podman: the YAML, the secret (0600, not in the YAML), world.json, keys.json"

# ---- play -------------------------------------------------------------------------------------
podman network create "$NET" >/dev/null || fail "podman network create"
podman secret create "$ID-keys" "$H/pm/podman-secret.json" >/dev/null || fail "secret create"
podman kube play --network "$NET" "$H/pm/edgekv-podman.yaml" >"$H/play.out" 2>&1 ||
    fail "kube play: $(cat "$H/play.out")"
for c in coordinator tier-ams pop-fra pop-cdg; do
    state=$(podman inspect -f '{{.State.Status}}' "$ID-world-$c" 2>&1) ||
        fail "no container $ID-world-$c: $state"
    [ "$state" = running ] || fail "$c is $state: $(podman logs "$ID-world-$c" 2>&1 | tail -5)"
    args=$(podman inspect -f '{{json .Args}}' "$ID-world-$c")
    [ "$args" = "[\"--options-file\",\"/etc/edgekv/$c.options\"]" ] || fail "$c's args: $args"
    podman inspect -f '{{json .Config.Cmd}} {{json .Config.Entrypoint}}' "$ID-world-$c" |
        grep -qF "$TOKEN" && fail "$c has the token in its command"
done
pass "kube play: the coordinator, the tier and both PoPs run, each with its options file only"

# ---- attach -----------------------------------------------------------------------------------
A=$H/attached
mkdir -p "$A"
cp "$H/pm/keys.json" "$A/keys.json"
att() { EDGEKV_HOME=$A "$EKV" "$@"; }
att up --attach "$H/pm/world.json" >"$H/attach.out" 2>&1 ||
    fail "up --attach: $(cat "$H/attach.out")"
# the PoPs become ready once they hear the coordinator: wait for each one's health
for port in $((BASE + 100)) $((BASE + 101)) $((BASE + 10)); do
    for _ in $(seq 100); do
        curl -sf "http://127.0.0.1:$port/_edgekv/health" >/dev/null && break
        sleep 0.1
    done
    curl -sf "http://127.0.0.1:$port/_edgekv/health" >/dev/null ||
        fail "no health at $port: $(podman logs "$ID-world-coordinator" 2>&1 | tail -3)"
done
att probe --json >"$H/probe.json" 2>"$H/probe.err" || fail "probe: $(cat "$H/probe.err")"
for n in fra cdg ams; do
    jq -e --arg n "$n" '[.. | objects | select(.name? == $n)] | length > 0' "$H/probe.json" \
        >/dev/null || fail "probe did not reach $n: $(cat "$H/probe.json")"
done
att verify >"$H/verify.out" 2>&1 || fail "verify: $(cat "$H/verify.out")"
grep -q "every PoP agrees with the coordinator" "$H/verify.out" || fail "$(cat "$H/verify.out")"
pass "up --attach: probe reaches fra, cdg and the tier through the pod; verify passes"

code() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
for url in "http://127.0.0.1:$((BASE + 100))/stats" "http://127.0.0.1:$((BASE + 10))/metrics" \
    "http://127.0.0.1:$BASE/metrics"; do
    [ "$(code "$url")" = 401 ] || fail "$url without the token: $(code "$url")"
    [ "$(code -H "Authorization: Bearer $TOKEN" "$url")" = 200 ] || fail "$url with the token"
done
pass "admin paths of a PoP, the tier and the coordinator: 401 without the token, 200 with it"

# ---- down -------------------------------------------------------------------------------------
att down >/dev/null 2>&1 || fail "down of the attached world"
podman kube down "$H/pm/edgekv-podman.yaml" >"$H/down.out" 2>&1 ||
    fail "kube down: $(cat "$H/down.out")"
podman volume rm "$ID-coordinator-db" "$ID-world" >/dev/null || fail "volume rm"
podman secret rm "$ID-keys" >/dev/null || fail "secret rm"
podman network rm "$NET" >/dev/null || fail "network rm"
podman rmi "$TAG" >/dev/null || fail "rmi"
if [ -n "$PAUSE" ]; then
    podman images --format '{{.Repository}}:{{.Tag}}' | grep "^$PAUSE:" | xargs -r podman rmi \
        >/dev/null || fail "rmi of the pause image kube play built"
fi
left=$( (
    podman ps -a --format '{{.Names}}'
    podman pod ps --format '{{.Name}}'
    podman volume ls --format '{{.Name}}'
    podman secret ls --format '{{.Name}}'
    podman network ls --format '{{.Name}}'
    podman images --format '{{.Repository}}'
) | grep -F "$ID" || true)
[ -z "$left" ] || fail "left in podman: $left"
pass "kube down; the volumes, the secret, the network and the image removed: nothing left"
