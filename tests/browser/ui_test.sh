#!/usr/bin/env bash
# edgekv ui in a real browser (Debian's chromium, headless, driven by the puppeteer-core pinned
# in package-lock.json): ui.test.mjs loads the page of a running world and checks what a student
# would see, in two worlds at time scale 20 (cacheTtl 60 s = 3 s real):
#   push  push-all PoPs a (Frankfurt), b (New York), c (Sydney), d (Madrid): a write made from
#         the page turns every PoP to the newest version; the page shows each within 200 ms of
#         the PoP serving it (figures printed); a click on partition marks b, and a second
#         write reaches every PoP but b, which keeps the older version (its panel: cut off
#         from pushes, 1 behind); heal unmarks b and it catches up (its panel: newest);
#         another key written straight at d is followed to every PoP, and every PoP keeps
#         the watched key's colour (newest; b's panel: newest), the timeline naming it
#         "a write of another key" (issue 27);
#   kv    PoPs a, b under kv: once the page is up b reads the key (a cached copy for 3 s real),
#         a write from the page through a turns a to the newest colour while b keeps its older
#         one (its panel: cached, expires in N s; 1 behind) until its cacheTtl runs out, when b
#         turns to "expired" (its panel: the next read fetches).
# Screenshots go to OUT (default: a temporary folder, kept when the test fails).
# Usage: ui_test.sh BIN_DIR SRC_DIR [OUT]
set -euo pipefail
# absolute: the script runs node from its own folder
source "$2/tests/integration/lib.sh" "$(cd "$1" && pwd)" "$(cd "$2" && pwd)"
H=$EDGEKV_HOME
OUT=${3:-$H/shots}
mkdir -p "$OUT"
UI_PID=""
cd "$(dirname "${BASH_SOURCE[0]}")"

[ -x /usr/bin/chromium ] || { echo "SKIP: no /usr/bin/chromium (apt-get install chromium)"; exit 77; }
# shellcheck source-path=SCRIPTDIR
. ../../scripts/lib/node.sh
ekv_use_node || exit 2
if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] ||
    [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund >/dev/null
fi

trap '[ -n "$UI_PID" ] && stop_pids "$UI_PID"; ekv_cleanup' EXIT

# stop_ui: SIGTERM; edgekv ui ends at once with status 0 (under a sanitizer: nothing leaked).
stop_ui() {
    local pid=$UI_PID rc=0
    UI_PID=""
    kill -TERM "$pid"
    wait "$pid" || rc=$?
    [ "$rc" = 0 ] || fail "edgekv ui exited $rc: $(grep -B1 -A9 Sanitizer "$H/ui.err" | head -40)"
}

# start_ui: `edgekv ui` on an ephemeral port of 127.0.0.1; sets URL.
start_ui() {
    "$EKV" ui --port 0 >"$H/ui.out" 2>"$H/ui.err" &
    UI_PID=$!
    for _ in $(seq 1 100); do
        URL=$(sed -n 's|^edgekv ui: \(http://127.0.0.1:[0-9]*/\).*|\1|p' "$H/ui.out" 2>/dev/null || true)
        [ -n "$URL" ] && return 0
        gone "$UI_PID" && fail "edgekv ui exited: $(cat "$H/ui.err")"
        sleep 0.05
    done
    fail "edgekv ui printed no address"
}

# ---- push ------------------------------------------------------------------------------------
ekv_topology "$H/push.yaml" policy=push-all time_scale=20 write_rate_limit=0 \
    a:-:Frankfurt 'b:-:New York' c:-:Sydney d:-:Madrid
"$EKV" up "$H/push.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
D=$(jq -r '.pops[] | select(.name == "d") | .url' "$H/state.json")
start_ui
node ui.test.mjs push "$URL" "$OUT" "$D" || fail "push world in the browser (screenshots in $OUT)"
pass "push: a write from the page reaches every PoP; partition marks b; another key's write leaves the colours"
stop_ui
"$EKV" down >/dev/null || fail "down"

# ---- kv --------------------------------------------------------------------------------------
ekv_topology "$H/kv.yaml" policy=kv time_scale=20 write_rate_limit=0 min_cache_ttl=1 \
    a:-:Frankfurt b:-:Rome
"$EKV" up "$H/kv.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/state.json")
curl -sf -X PUT --data-binary v0 "$A/lesson?urlencoded=true" >/dev/null || fail "first write"
start_ui
node ui.test.mjs kv "$URL" "$OUT" "$B" || fail "kv world in the browser (screenshots in $OUT)"
pass "kv: b keeps its older copy until its cacheTtl runs out"
stop_ui
echo "$PASSED passed"
