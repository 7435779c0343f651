#!/usr/bin/env bash
# Issue 27's Prometheus test: Debian's prometheus scrapes a running kv world (a coordinator, one
# tier, two PoPs) through the file_sd targets file `edgekv up` writes, with the scrape
# configuration of docs/metrics.md. After a write through a, N reads at a (hits: a caches its
# own write) and one at b (a miss through the tier), Prometheus reports every process up=1 with
# its labels, a's hits total N, b's misses 1, the tier's PoP requests 1 and the coordinator's
# writes 1. A killed PoP goes up=0; `edgekv fault restart` writes the targets file again and the
# PoP is up=1 once more; `edgekv down` removes the file. promtool reads every /metrics and
# finds HELP on each metric, nothing else to say. Prometheus runs on an ephemeral
# loopback port with its storage in $EDGEKV_HOME and is stopped by its pid.
# Skips (77) only when the prometheus binary is missing (scripts/setup installs it).
set -euo pipefail
command -v prometheus >/dev/null 2>&1 || {
    echo "SKIP: no prometheus binary (Debian's package prometheus; scripts/setup installs it)"
    exit 77
}
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
TARGETS=$H/prometheus-targets.json
N=7 # reads at a after its write: all hits
PROM_PID=""
stop_prom() {
    [ -n "$PROM_PID" ] && stop_pids "$PROM_PID"
    PROM_PID=""
}
trap 'stop_prom; ekv_cleanup' EXIT

ekv_topology "$H/world.yaml" policy=kv time_scale=10 write_rate_limit=0 'tier=ams:Amsterdam' \
    a:-:Paris b:-:Rome
"$EKV" up "$H/world.yaml" >"$H/up.out" 2>&1 || fail "edgekv up: $(cat "$H/up.out")"
url() { jq -r --arg n "$1" '(.pops + (.tiers // []))[] | select(.name == $n) | .url' "$H/state.json"; }
COORD=$(jq -r .coordinator.url "$H/state.json")
A=$(url a) B=$(url b) AMS=$(url ams)

# ---- the targets file: one group per process, its address and labels ------------------------
[ -s "$TARGETS" ] || fail "edgekv up wrote no $TARGETS"
group() { jq -c --arg a "${1#http://}" '.[] | select(.targets == [$a]) | .labels' "$TARGETS"; }
[ "$(jq length "$TARGETS")" = 4 ] || fail "not four groups: $(cat "$TARGETS")"
[ "$(group "$COORD")" = '{"kind":"coordinator","coordinator":"coordinator","city":"Frankfurt"}' ] ||
    fail "the coordinator's group: $(cat "$TARGETS")"
[ "$(group "$AMS")" = '{"kind":"tier","tier":"ams","city":"Amsterdam"}' ] ||
    fail "the tier's group: $(cat "$TARGETS")"
[ "$(group "$A")" = '{"kind":"pop","pop":"a","city":"Paris","policy":"kv","tier":"ams"}' ] ||
    fail "a's group: $(cat "$TARGETS")"
[ "$(group "$B")" = '{"kind":"pop","pop":"b","city":"Rome","policy":"kv","tier":"ams"}' ] ||
    fail "b's group: $(cat "$TARGETS")"
pass "up wrote the targets file: coordinator, tier and PoPs with their labels"

# ---- traffic: a write through a, N reads at a, one at b --------------------------------------
code=$(curl -s --max-time 10 -o /dev/null -w '%{http_code}' -X PUT --data-binary v1 \
    "$A/k?urlencoded=true") || code=000
[ "$code" = 200 ] || fail "PUT at a: $code"
for _ in $(seq 1 "$N"); do
    [ "$(curl -s --max-time 10 "$A/k?urlencoded=true")" = v1 ] || fail "read at a"
done
[ "$(curl -s --max-time 10 "$B/k?urlencoded=true")" = v1 ] || fail "read at b"

# ---- every /metrics parses, and its own metrics have HELP ----------------------------------
# promtool exits 1 on a parse error and 3 on lint findings (a metric without HELP, say).
for u in "$COORD" "$AMS" "$A" "$B"; do
    curl -s --max-time 5 "$u/metrics" | promtool check metrics >"$H/lint" 2>&1 ||
        fail "promtool check metrics on $u: $(cat "$H/lint")"
done
pass "promtool check metrics: every process's /metrics parses, each of its metrics has HELP"

# ---- Prometheus with the documented scrape configuration, on its own port --------------------
cat >"$H/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  scrape_timeout: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: edgekv
    honor_labels: true
    file_sd_configs:
      - files: ["$TARGETS"]
EOF
prometheus --config.file="$H/prometheus.yml" --storage.tsdb.path="$H/prometheus-data" \
    --web.listen-address=127.0.0.1:0 >"$H/logs/prometheus.log" 2>&1 &
PROM_PID=$!
PROM=""
for _ in $(seq 1 200); do
    port=$(sed -n 's/.*msg="Listening on" address=127\.0\.0\.1:\([0-9]*\).*/\1/p' \
        "$H/logs/prometheus.log")
    [ -n "$port" ] && PROM=http://127.0.0.1:$port && break
    gone "$PROM_PID" && fail "prometheus exited: $(tail -5 "$H/logs/prometheus.log")"
    sleep 0.1
done
[ -n "$PROM" ] || fail "prometheus did not listen: $(tail -5 "$H/logs/prometheus.log")"

# query EXPR: the query's result vector, each sample as "LABELS VALUE" on one line.
query() {
    curl -s --max-time 5 -G "$PROM/api/v1/query" --data-urlencode "query=$1" |
        jq -r '.data.result[] | "\(.metric | del(.__name__, .instance, .job) | tojson) \(.value[1])"'
}
# until_query EXPR WANT: waits up to 30 s until query EXPR prints WANT (sorted lines).
until_query() {
    local got=""
    for _ in $(seq 1 150); do
        got=$(query "$1" | sort)
        [ "$got" = "$2" ] && return 0
        sleep 0.2
    done
    fail "Prometheus's $1 is
$got
not
$2"
}

until_query up '{"city":"Amsterdam","kind":"tier","tier":"ams"} 1
{"city":"Frankfurt","coordinator":"coordinator","kind":"coordinator"} 1
{"city":"Paris","kind":"pop","policy":"kv","pop":"a","tier":"ams"} 1
{"city":"Rome","kind":"pop","policy":"kv","pop":"b","tier":"ams"} 1'
pass "Prometheus found the four targets in the file: every one up=1, with its labels"
until_query 'edgekv_pop_hits_total{kind="pop"}' "{\"city\":\"Paris\",\"kind\":\"pop\",\"policy\":\"kv\",\"pop\":\"a\",\"tier\":\"ams\"} $N
{\"city\":\"Rome\",\"kind\":\"pop\",\"policy\":\"kv\",\"pop\":\"b\",\"tier\":\"ams\"} 0"
until_query 'edgekv_pop_misses_total{pop="b"}' \
    '{"city":"Rome","kind":"pop","policy":"kv","pop":"b","tier":"ams"} 1'
until_query 'edgekv_pop_tier_requests_total{kind="tier"}' \
    '{"city":"Amsterdam","kind":"tier","pop":"ams","tier":"ams"} 1'
until_query 'edgekv_operations_total{op="write"}' \
    '{"city":"Frankfurt","coordinator":"coordinator","kind":"coordinator","op":"write"} 1'
pass "a's hits total is $N, b's misses 1, the tier's PoP requests 1, the coordinator's writes 1"

# ---- a killed PoP is down; a restart rewrites the file and brings it back --------------------
"$EKV" fault kill b >/dev/null || fail "fault kill b"
until_query 'up{pop="b"}' '{"city":"Rome","kind":"pop","policy":"kv","pop":"b","tier":"ams"} 0'
rm "$TARGETS"
"$EKV" fault restart b >/dev/null || fail "fault restart b"
[ -s "$TARGETS" ] || fail "restarting b did not write $TARGETS again"
[ "$(group "$(url b)")" = '{"kind":"pop","pop":"b","city":"Rome","policy":"kv","tier":"ams"}' ] ||
    fail "b's group after the restart ($(url b)): $(cat "$TARGETS")"
until_query 'up{pop="b"}' '{"city":"Rome","kind":"pop","policy":"kv","pop":"b","tier":"ams"} 1'
until_query 'count(up == 1)' '{} 4'
pass "killed b was up=0; restarted, it is in the rewritten file and up=1 again"

stop_prom
"$EKV" down >/dev/null || fail "edgekv down"
[ ! -e "$TARGETS" ] || fail "down left $TARGETS"
pass "down removed the targets file"
echo "$PASSED passed, 0 failed"
