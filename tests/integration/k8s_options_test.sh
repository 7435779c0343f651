#!/usr/bin/env bash
# integration.k8s_options: each daemon accepts the options file `edgekv export` wrote for it.
# `DAEMON --options-file FILE --help` reads the file (stopping at its first mistake with the
# file's line, exit 2) and then prints the usage (exit 0): so every option name and value the
# export writes is checked against the daemon's own table, on any machine (integration.k8s,
# which runs them in podman, needs root). Also: a mistake in a file is reported with its line.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
cat >"$H/world.yaml" <<'YAML'
hosts:
  - {name: h1, address: 127.0.0.1}
  - {name: h2, address: 127.0.0.2, clock_skew_ms: -12.5}
coordinator: {host: h1, city: Frankfurt, iata: FRA, lat: 50.1109, lon: 8.6821, http_port: 0,
              pub_port: 0, router_port: 0, heartbeat_ms: 50, durability: wal,
              api_rate_limit: 1200}
defaults: {policy: kv, cache_ttl: 60, time_scale: 20, http_port_base: 0, loss: 0.01,
           jitter: 'normal:2', tier_purge_on_write: true, write_rate_limit: 2}
tiers:
  - {name: ams, host: h2, city: Amsterdam, iata: AMS, lat: 52.3105, lon: 4.7683, cache_ttl: 90}
pops:
  - {name: fra, city: Frankfurt, iata: FRA, lat: 50.0379, lon: 8.5622, policy: push}
  - {name: cdg, host: h2, city: Paris, iata: CDG, lat: 49.0097, lon: 2.5479, delay_ms: 20}
YAML
"$EKV" keys >/dev/null || fail "edgekv keys"
"$EKV" export k8s "$H/world.yaml" --out "$H/k8s" >/dev/null || fail "export k8s"
"$EKV" export k8s "$H/world.yaml" --podman --out "$H/pm" >/dev/null || fail "export --podman"
"$EKV" export compose "$H/world.yaml" --out "$H/c" >/dev/null || fail "export compose"

# The ConfigMap's NAME.options keys back into files: each one's block under data:.
split_configmap() { # YAML OUTDIR
    mkdir -p "$2"
    awk -v dir="$2" '
        /^  [a-z0-9-]+\.options: \|$/ { f = dir "/" substr($1, 1, length($1) - 1); next }
        f && /^    / { print substr($0, 5) > f; next }
        { f = "" }' "$1"
}
split_configmap "$H/k8s/edgekv.yaml" "$H/k8s-options"
split_configmap "$H/pm/edgekv-podman.yaml" "$H/pm-options"

n=0
for f in "$H"/k8s-options/*.options "$H"/pm-options/*.options "$H"/c/options/*.options; do
    case $(basename "$f") in
    coordinator.options) daemon=edgekv-coordinator ;;
    *) daemon=edgekv-node ;;
    esac
    "$BIN/$daemon" --options-file "$f" --help >/dev/null 2>"$H/err" ||
        fail "$daemon refused $f: $(cat "$H/err")"
    n=$((n + 1))
done
[ "$n" = 12 ] || fail "expected 12 options files (4 daemons x 3 exports), found $n"
grep -q '^--clock-skew-ms -12.5$' "$H/c/options/pop-cdg.options" || fail "cdg has no skew"
grep -q '^--purge-on-write$' "$H/c/options/tier-ams.options" || fail "tier has no purge"
pass "both daemons accept all 12 options files of the k8s, podman and compose exports"

printf '# a comment\n--name x\n\n--delay-ms fast\n' >"$H/bad.options"
if "$BIN/edgekv-node" --options-file "$H/bad.options" --help >/dev/null 2>"$H/err"; then
    fail "a bad options file was accepted"
fi
grep -qF "edgekv-node: $H/bad.options:4: bad value for --delay-ms: 'fast' is not a number" \
    "$H/err" || fail "message: $(cat "$H/err")"
pass "a mistake in an options file is reported with the file's line"
