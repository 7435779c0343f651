#!/usr/bin/env bash
# Compatibility test: unchanged Worker code (worker.js) runs in workerd, the open-source Workers
# runtime (npm package `workerd`, version pinned in package-lock.json), with its KV binding
# pointed at edgekv PoPs (KV-SPEC.md sections 4 and 5).
#
# Usage: bash run.sh BIN_DIR SRC_DIR
#   BIN_DIR  holds edgekv, edgekv-node and edgekv-coordinator (e.g. build-dev/bin)
#   SRC_DIR  the source tree (accepted like the other test scripts; this script finds its own
#            files next to itself)
#
# It starts a private edgekv (coordinator + PoP a with 5 ms delay + PoP b with 30 ms, policy
# ttl) in a fresh EDGEKV_HOME, one workerd bound to each PoP, and checks:
#   1-2  GET /selftest on worker A and on worker B: every binding check passes
#   3-6  the staleness of KV-SPEC section 5: B caches v1 (cacheTtl 30), A writes v2, A sees v2 at
#        once, B keeps serving v1 at +2 s and +10 s (and near the end of its 30 s window), and
#        serves v2 by +34 s.
# Prints `N passed, M failed`; exits non-zero on any failure. Takes about 45 s.
# Everything it starts is stopped by pid on exit; nothing is killed by name.
set -euo pipefail
export LC_ALL=C

if [ $# -lt 1 ]; then
    echo "usage: bash run.sh BIN_DIR SRC_DIR" >&2
    exit 2
fi
BIN=$(cd "$1" && pwd)
if [ $# -ge 2 ]; then
    SRC=$(cd "$2" && pwd)
else
    SRC=""
fi
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
# Node.js >= 20 (the machine's, or the one scripts/setup cached) for npm and the helpers below.
# shellcheck source-path=SCRIPTDIR
. ../../scripts/lib/node.sh
ekv_use_node || exit 2
EKV="$BIN/edgekv"
for b in edgekv edgekv-node edgekv-coordinator; do
    [ -x "$BIN/$b" ] || { echo "missing $BIN/$b (build it first)" >&2; exit 2; }
done

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi
# The workerd package names its native binary; run that directly so the pid we keep is workerd's.
WORKERD=$(node -p 'require("workerd").default')
WORKERD_VERSION=$(node -p 'require("workerd").version')
echo "workerd $WORKERD_VERSION ($("$WORKERD" --version))"

export EDGEKV_HOME
EDGEKV_HOME=$(mktemp -d /tmp/edgekv-workerd.XXXXXX)
WORK="$EDGEKV_HOME/workerd"
mkdir -p "$WORK"
WORKERD_PIDS=()
PASSED=0
FAILED=0

cleanup() {
    local pid
    for pid in "${WORKERD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${WORKERD_PIDS[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    if [ -f "$EDGEKV_HOME/state.json" ]; then
        "$EKV" down >/dev/null 2>&1 || true
        # Anything edgekv recorded and that is still there is killed by its pid.
        for pid in $(node -e '
            const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
            console.log([s.coordinator && s.coordinator.pid, ...(s.pops || []).map((p) => p.pid)]
                .filter(Boolean).join(" "));' "$EDGEKV_HOME/state.json" 2>/dev/null); do
            kill -9 "$pid" 2>/dev/null || true
        done
    fi
    rm -rf "$EDGEKV_HOME"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

show_logs() {
    local f
    for f in "$WORK"/*.log "$EDGEKV_HOME"/logs/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -15 "$f" >&2; }
    done
}

pass() {
    echo "ok: $*"
    PASSED=$((PASSED + 1))
}

fail() {
    echo "FAIL: $*" >&2
    FAILED=$((FAILED + 1))
}

# Setup failures end the run at once.
die() {
    echo "FAIL: $*" >&2
    show_logs
    echo "$PASSED passed, $((FAILED + 1)) failed"
    exit 1
}

finish() {
    [ "$FAILED" -eq 0 ] || show_logs
    echo "$PASSED passed, $FAILED failed"
    [ "$FAILED" -eq 0 ]
}

# Seconds (float) since the epoch.
now() { echo "$EPOCHREALTIME"; }
# sleep_until T: sleeps until the epoch time T (float), at once if it has passed.
sleep_until() {
    local d
    d=$(awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { d = t - n; if (d < 0) d = 0; printf "%.3f", d }')
    sleep "$d"
}
# elapsed T: seconds since T, one decimal.
elapsed() { awk -v t="$1" -v n="$EPOCHREALTIME" 'BEGIN { printf "%.1f", n - t }'; }

# Two free loopback ports, held open together while they are chosen so they differ.
free_ports() {
    node -e '
        const net = require("net"); const ports = []; const socks = [];
        for (let i = 0; i < 2; i++) {
            const s = net.createServer(); socks.push(s);
            s.listen(0, "127.0.0.1", () => {
                ports.push(s.address().port);
                if (ports.length === 2) { console.log(ports.join(" ")); socks.forEach((x) => x.close()); }
            });
        }'
}

# ---- edgekv ------------------------------------------------------------------------------
cat >"$EDGEKV_HOME/topology.yaml" <<'EOF'
# Two PoPs under the ttl policy: caches keep what they fetched for its cacheTtl.
coordinator:
  city: Frankfurt
  lat: 50.1109
  lon: 8.6821
  host: 127.0.0.1
  http_port: 0
  pub_port: 0
  router_port: 0
defaults:
  policy: ttl
  http_port_base: 0
pops:
  - name: a
    city: Frankfurt
    delay_ms: 5
  - name: b
    city: New York
    delay_ms: 30
EOF
"$EKV" up "$EDGEKV_HOME/topology.yaml" >"$WORK/up.log" 2>&1 || { cat "$WORK/up.log" >&2; die "edgekv up"; }
"$EKV" status --json >"$WORK/status.json" || die "edgekv status --json"
status_field() {
    node -e '
        const s = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const pop = (n) => s.pops.find((p) => p.name === n);
        const v = { coordinator: s.coordinator.url, a: pop("a") && pop("a").url, b: pop("b") && pop("b").url }[process.argv[2]];
        if (!v) process.exit(1);
        console.log(v);' "$WORK/status.json" "$1"
}
COORD_URL=$(status_field coordinator) || die "no coordinator URL in status"
POP_A=$(status_field a) || die "no URL for PoP a in status"
POP_B=$(status_field b) || die "no URL for PoP b in status"
echo "coordinator $COORD_URL, PoP a $POP_A, PoP b $POP_B"
for u in "$POP_A" "$POP_B"; do
    ok=""
    for _ in $(seq 100); do
        if curl -sf --max-time 2 "$u/_edgekv/health" >/dev/null 2>&1; then ok=1; break; fi
        sleep 0.1
    done
    [ -n "$ok" ] || die "PoP $u not healthy"
done

# A second namespace, for the Worker's KV2 binding (the PoP picks it by X-Edgekv-Namespace).
NS2_ID=$(curl -sf --max-time 10 -X POST -H 'content-type: application/json' \
    --data "{\"title\":\"compat-workerd-$$\"}" \
    "$COORD_URL/client/v4/accounts/local/storage/kv/namespaces" \
    | node -e 'const r = JSON.parse(require("fs").readFileSync(0, "utf8")); if (!r.success) process.exit(1); console.log(r.result.id)') \
    || die "could not create the second namespace through the REST API"

# ---- workerd -----------------------------------------------------------------------------
# start_worker NAME POP_URL: renders the config, starts workerd, waits until it answers; sets
# WORKER_URL. A port taken between choosing and binding is retried with new ports.
start_worker() {
    local name=$1 pop=${2#http://} dir="$WORK/$1" port pid code
    mkdir -p "$dir"
    cp worker.js "$dir/worker.js"
    for attempt in 1 2 3; do
        port=$(free_ports | cut -d' ' -f1)
        sed -e "s/@POP_ADDR@/$pop/g" -e "s/@LISTEN_ADDR@/127.0.0.1:$port/g" \
            -e "s/@WORKER_JS@/worker.js/g" -e "s/@NS2_ID@/$NS2_ID/g" \
            config.capnp.tmpl >"$dir/config.capnp"
        "$WORKERD" serve "$dir/config.capnp" >"$WORK/workerd-$name.log" 2>&1 &
        pid=$!
        WORKERD_PIDS+=("$pid")
        for _ in $(seq 150); do
            kill -0 "$pid" 2>/dev/null || break
            code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$port/" || true)
            if [ "$code" = 404 ]; then
                WORKER_URL="http://127.0.0.1:$port"
                echo "workerd $name: $WORKER_URL -> PoP $pop (pid $pid)"
                return 0
            fi
            sleep 0.1
        done
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
        echo "workerd $name did not come up on port $port (attempt $attempt):" >&2
        tail -5 "$WORK/workerd-$name.log" >&2 || true
    done
    die "workerd $name does not start"
}
start_worker a "$POP_A"
WA=$WORKER_URL
start_worker b "$POP_B"
WB=$WORKER_URL

# ---- 1-2: the Worker's own checks of the binding -----------------------------------------
selftest() {
    local name=$1 url=$2 out="$WORK/selftest-$1.json"
    if ! curl -sS --max-time 60 -o "$out" "$url/selftest?run=$name-$$-$(date +%s)"; then
        fail "selftest on worker $name: no answer"
        return
    fi
    local summary
    if summary=$(node -e '
        const text = require("fs").readFileSync(process.argv[1], "utf8");
        let r;
        try { r = JSON.parse(text); } catch (e) {
            console.log(`not JSON: ${text.slice(0, 2000)}`);
            process.exit(1);
        }
        const bad = r.checks.filter((c) => c.ok !== true);
        for (const c of bad) console.error(`  check failed: ${c.name}\n    ${c.detail}`);
        console.log(`${r.checks.length - bad.length}/${r.checks.length} checks`);
        process.exit(r.ok === true && bad.length === 0 && r.checks.length > 0 ? 0 : 1);' "$out"); then
        pass "selftest on worker $name (PoP $name): $summary"
    else
        fail "selftest on worker $name (PoP $name): $summary"
    fi
}
selftest a "$WA"
selftest b "$WB"

# ---- 3-6: staleness under the ttl policy (KV-SPEC section 5) -----------------------------
# read_kv URL KEY: what the Worker reads with cacheTtl 30 (the value or "null") into GOT and the
# binding's cacheStatus into STATUS.
read_kv() {
    local hdr="$WORK/read.hdr"
    GOT=$(curl -sS --max-time 10 -D "$hdr" "$1/read?key=$2&cacheTtl=30") || GOT="<no answer>"
    STATUS=$(tr -d '\r' <"$hdr" 2>/dev/null | awk -F': ' 'tolower($1) == "x-kv-cache-status" { print $2 }')
}
write_kv() {
    local out
    out=$(curl -sS --max-time 10 -X PUT --data-binary "$3" "$1/write?key=$2") || true
    [ "$out" = ok ] || { echo "write $2 through $1: $out" >&2; return 1; }
}

K="stale/$$-$(date +%s)"
T1=$(now)
write_kv "$WA" "$K" v1 || die "worker A could not write v1"
got=""
for _ in $(seq 50); do
    read_kv "$WB" "$K"; got=$GOT
    [ "$got" = v1 ] && break
    sleep 0.1
done
TB=$(now) # B's cached copy is fresh until about TB + 30
if [ "$got" = v1 ]; then
    pass "B reads v1 written through A (cacheStatus $STATUS)"
else
    die "B never read v1 (last read: $got)"
fi

sleep_until "$(awk -v t="$T1" 'BEGIN { printf "%.3f", t + 1.2 }')" # 1 write per key per second
T=$(now)
write_kv "$WA" "$K" v2 || die "worker A could not write v2"
read_kv "$WA" "$K"; got=$GOT
if [ "$got" = v2 ]; then pass "A reads its own write v2 at once"; else fail "A reads '$got' right after writing v2"; fi

stale_ok=1
stale_log=""
for at in 2 10; do
    sleep_until "$(awk -v t="$T" -v a="$at" 'BEGIN { printf "%.3f", t + a }')"
    read_kv "$WB" "$K"; got=$GOT
    stale_log+=" +$(elapsed "$T")s=$got($STATUS)"
    if [ "$got" != v1 ]; then stale_ok=0; fi
done
# Still stale near the end of B's 30 s window (28 s after B fetched v1).
sleep_until "$(awk -v t="$TB" 'BEGIN { printf "%.3f", t + 28 }')"
read_kv "$WB" "$K"; got=$GOT
stale_log+=" +$(elapsed "$T")s=$got($STATUS)"
if [ "$got" != v1 ]; then stale_ok=0; fi
if [ "$stale_ok" = 1 ]; then
    pass "B keeps serving the stale v1 after A's write:$stale_log"
else
    fail "B should serve the stale v1 within its cacheTtl window:$stale_log"
fi

sleep_until "$(awk -v t="$T" 'BEGIN { printf "%.3f", t + 29 }')"
deadline=$(awk -v t="$T" 'BEGIN { printf "%.3f", t + 34 }')
fresh_log=""
got=""
while :; do
    read_kv "$WB" "$K"; got=$GOT
    fresh_log+=" +$(elapsed "$T")s=$got($STATUS)"
    [ "$got" = v2 ] && break
    awk -v d="$deadline" -v n="$EPOCHREALTIME" 'BEGIN { exit !(n + 1 > d) }' && break
    sleep 1
done
if [ "$got" = v2 ]; then
    pass "B serves v2 once its cacheTtl ran out ($(elapsed "$TB") s after it fetched v1):$fresh_log"
else
    fail "B still not serving v2 by +34 s:$fresh_log"
fi

finish
