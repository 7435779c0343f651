#!/usr/bin/env bash
# Issue 28's "Done when" for `edgekv dev` (docs/dev.md): unmodified Workers in the KV guides'
# style (tests/compat/dev/) run through `edgekv dev` at PoPs of the shipped kv world
# (topology.yaml with ephemeral ports and time_scale 10, so cacheTtl 60 s lasts 6 real s):
#   bad input  no world, no or a missing configuration, malformed TOML and JSONC (file:line), an
#              unknown binding (file:line), a Worker that does not compile (esbuild's
#              file:line), a PoP that does not exist (the names listed): each a message and
#              exit 1 with nothing left running;
#   prefs      (ES modules, wrangler.toml) at fra and lhr: the binding's id mapped to a created
#              namespace; request.cf shows each PoP's colo, country and coordinates; a write
#              through fra is served at fra at once while lhr serves the old value until its
#              cacheTtl, then the new one; an edit of an imported file is served after the
#              reload, a broken edit keeps the running version; Ctrl-C stops workerd, exit 0;
#   flags      (service-worker syntax, wrangler.json, preview_id) at ams with --port BASE;
#   sessions   (TypeScript, wrangler.jsonc) at fra; a SIGKILLed edgekv dev takes workerd along.
# Needs Node.js >= 20 (scripts/lib/node.sh); `edgekv dev` installs its npm packages on first
# use. Everything is stopped by pid; nothing is killed by name.
set -euo pipefail
# shellcheck source-path=SCRIPTDIR
source "$(dirname "$0")/dev_lib.sh" "$1" "$2"
FIX=$SRC/tests/compat/dev

# nothing_left: no process names TMPDIR and nothing is left in it.
nothing_left() {
    local procs
    procs=$(ps -eo pid=,args= | grep -F "$TMPDIR/" | grep -v grep || true)
    [ -z "$procs" ] || devfail "left running: $procs"
    tmpdir_empty
}

# bad NAME DIR PATTERN ARGS...: `edgekv dev ARGS` in DIR exits 1 with a message matching PATTERN
# (grep -E) and leaves nothing running.
bad() {
    local name=$1 dir=$2 pattern=$3 rc=0
    shift 3
    (cd "$dir" && timeout 120 "$EKV" dev "$@") >"$H/bad.out" 2>"$H/bad.err" || rc=$?
    [ "$rc" = 1 ] || devfail "$name: exit $rc, not 1: $(cat "$H/bad.out" "$H/bad.err")"
    grep -Eq "$pattern" "$H/bad.err" ||
        devfail "$name: no message like /$pattern/: $(cat "$H/bad.out" "$H/bad.err")"
    nothing_left
    pass "$name: $(grep -E "$pattern" "$H/bad.err" | head -1)"
}

get() { BODY=$(curl -sS --max-time 10 "$1") || devfail "GET $1"; }

# ---- bad input, part 1: no world --------------------------------------------------------------
APP=$H/prefs
cp -r "$FIX/prefs" "$APP"
bad "no world" "$APP" "no running world in .*: start one with .edgekv up."

# ---- the shipped kv world, ports ephemeral, time_scale 10 (as kv_world_test.sh) -------------
up_shipped_world
pass "up: the shipped kv world ($(tail -1 "$H/up.log"))"

# ---- bad input, part 2 -------------------------------------------------------------------------
mkdir -p "$H/empty"
bad "no configuration" "$H/empty" "no wrangler.json, wrangler.jsonc, wrangler.toml in "
bad "missing --config" "$APP" "^edgekv dev: nope.toml: no such file" --config nope.toml
B=$H/broken
cp -r "$FIX/prefs" "$B"
printf 'name = "x"\nmain = "src/index.js"\ncompatibility_date = 2025-06-01"\n' >"$B/wrangler.toml"
bad "malformed TOML" "$B" "^edgekv dev: wrangler.toml:3:[0-9]+: "
rm "$B/wrangler.toml"
printf '{\n  // comment\n  "main": "src/index.js",\n  "kv_namespaces": [ { "binding": "PREFS" ]\n}\n' \
    >"$B/wrangler.jsonc"
bad "malformed JSONC" "$B" "^edgekv dev: wrangler.jsonc:4:[0-9]+: "
rm "$B/wrangler.jsonc"
cp "$FIX/prefs/wrangler.toml" "$B/wrangler.toml"
printf '\n[[r2_buckets]]\nbinding = "FILES"\nbucket_name = "files"\n' >>"$B/wrangler.toml"
line=$(grep -n 'r2_buckets' "$B/wrangler.toml" | cut -d: -f1)
bad "unknown binding" "$B" "^edgekv dev: wrangler.toml:$line: unknown binding r2_buckets"
cp "$FIX/prefs/wrangler.toml" "$B/wrangler.toml"
sed -i 's/const key = /const key = = /' "$B/src/index.js"
line=$(grep -n 'const key = =' "$B/src/index.js" | cut -d: -f1)
bad "Worker does not compile" "$B" "^src/index.js:$line:[0-9]+: ERROR: "
bad "unknown PoP" "$APP" '^edgekv dev: no PoP "nowhere" in the running world; its PoPs: fra, ams, lhr, ' \
    --pop fra --pop nowhere

# ---- prefs at fra and lhr ------------------------------------------------------------------------
start_dev prefs "$APP" --pop fra --pop lhr
grep -Eq '^  KV PREFS: 5d9e0c2f7a8b41c6a3e2f1d0c9b8a7e6 -> edgekv namespace [0-9a-f]{32} "wrangler:5d9e0c2f7a8b41c6a3e2f1d0c9b8a7e6" \(created\)$' \
    "$H/dev-prefs.out" || devfail "namespace mapping: $(cat "$H/dev-prefs.out")"
NS=$(sed -n 's/^  KV PREFS: .* edgekv namespace \([0-9a-f]*\) .*/\1/p' "$H/dev-prefs.out")
curl -sf "$(jq -r .coordinator.url "$H/state.json")/client/v4/accounts/t/storage/kv/namespaces/$NS" |
    jq -e '.result.title == "wrangler:5d9e0c2f7a8b41c6a3e2f1d0c9b8a7e6"' >/dev/null ||
    devfail "namespace $NS not in the world"
FRA=$(url prefs fra)
LHR=$(url prefs lhr)
grep -Eq '^fra +Frankfurt +FRA +http://127\.0\.0\.1:[0-9]+$' "$H/dev-prefs.out" &&
    grep -Eq '^lhr +London +LHR +http://127\.0\.0\.1:[0-9]+$' "$H/dev-prefs.out" ||
    devfail "table: $(cat "$H/dev-prefs.out")"
pass "prefs at fra ($FRA) and lhr ($LHR); PREFS -> namespace $NS (created)"

get "$FRA/where"
jq -e '.colo == "FRA" and .city == "Frankfurt" and .country == "DE" and .latitude == "50.11090"
    and .longitude == "8.68210"' <<<"$BODY" >/dev/null || devfail "request.cf at fra: $BODY"
get "$LHR/where"
jq -e '.colo == "LHR" and .city == "London" and .country == "GB" and .latitude == "51.50740"' \
    <<<"$BODY" >/dev/null || devfail "request.cf at lhr: $BODY"
pass "request.cf: FRA/DE at fra, LHR/GB at lhr with their coordinates"

put_prefs() {
    local out
    out=$(curl -sS --max-time 10 -X PUT --data "{\"theme\":\"$2\"}" "$1/prefs?user=ada") || true
    [ "$out" = saved ] || devfail "PUT theme $2 through $1: $out"
}
put_prefs "$FRA" dark
sleep 0.3 # the binding allows one write per simulated second to a key
R0a=$(now_ms)
get "$LHR/prefs?user=ada" # lhr (and its tier) cache dark for the Worker's cacheTtl
R0b=$(now_ms)
[ "$BODY" = "theme dark" ] || devfail "lhr read '$BODY' after fra wrote dark"
put_prefs "$FRA" light
get "$FRA/prefs?user=ada"
[ "$BODY" = "theme light" ] || devfail "fra right after writing light: '$BODY'"
pass "fra serves its own write (light) at once"
# Reads at lhr at 0.3, 0.5 and 0.7 of its cacheTtl: dark. (None past 0.8: that would refresh
# the copy ahead from the tier, whose copy is as old: kv_world_test.sh.)
log=""
for f in 3 5 7; do
    t=$((R0b + TTL * f / 10))
    while [ "$(now_ms)" -lt "$t" ]; do sleep 0.05; done
    get "$LHR/prefs?user=ada"
    log+=" +$(($(now_ms) - R0a))ms:'$BODY'"
    [ "$BODY" = "theme dark" ] || devfail "lhr within its cacheTtl ($TTL ms):$log"
done
t=$((R0b + TTL + 300))
while [ "$(now_ms)" -lt "$t" ]; do sleep 0.05; done
get "$LHR/prefs?user=ada"
log+=" +$(($(now_ms) - R0a))ms:'$BODY'"
[ "$BODY" = "theme light" ] || devfail "lhr after its cacheTtl ($TTL ms):$log"
pass "lhr serves the old dark until its cacheTtl ($TTL ms real), then light:$log"

# ---- reload on save ------------------------------------------------------------------------------
sed -i 's/return `theme /return `colour scheme /' "$APP/src/describe.js"
T=$(now_ms)
for _ in $(seq 1 100); do
    get "$LHR/prefs?user=ada"
    [ "$BODY" = "colour scheme light" ] && break
    sleep 0.1
done
[ "$BODY" = "colour scheme light" ] || devfail "the edit of src/describe.js not served: '$BODY'"
grep -q '^reloaded: ' "$H/dev-prefs.out" || devfail "no reloaded line"
pass "an edit of the imported src/describe.js is served $(($(now_ms) - T)) ms later"
sed -i 's/^export function describe/export function describe(/' "$APP/src/describe.js"
for _ in $(seq 1 100); do
    grep -q 'still serving the previous version' "$H/dev-prefs.err" && break
    sleep 0.1
done
grep -Eq '^src/describe.js:2:[0-9]+: ERROR: ' "$H/dev-prefs.err" ||
    devfail "a broken save: no esbuild message"
get "$FRA/prefs?user=ada"
[ "$BODY" = "colour scheme light" ] || devfail "after a broken save fra serves '$BODY'"
pass "a broken save: esbuild's file:line, and the previous version keeps serving"

stop_dev prefs
nothing_left # and no process names its folder
pass "Ctrl-C: edgekv dev exits 0, workerd $WORKERD_PID is gone, its files removed"

# ---- service-worker syntax, wrangler.json, preview_id, --port ------------------------------------
cp -r "$FIX/flags" "$H/flags"
BASE=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => {
    console.log(s.address().port); s.close(); });')
start_dev flags "$H/flags" --pop ams --port "$BASE"
grep -q '^  KV FLAGS: flags-preview -> edgekv namespace [0-9a-f]* "wrangler:flags-preview" (created)$' \
    "$H/dev-flags.out" || devfail "flags' mapping: $(cat "$H/dev-flags.out")"
grep -q 'service-worker syntax' "$H/dev-flags.out" || devfail "not service-worker syntax"
AMS=$(url flags ams)
[ "$AMS" = "http://127.0.0.1:$BASE" ] || devfail "--port $BASE: ams at $AMS"
out=$(curl -sS --max-time 10 -X POST "$AMS/flag?name=beta&on=1")
[ "$out" = set ] || devfail "POST flag: $out"
get "$AMS/flag?name=beta"
[ "$BODY" = "beta on at AMS" ] || devfail "flag at ams: '$BODY'"
stop_dev flags
nothing_left # and no process names its folder
pass "service-worker syntax (wrangler.json, preview_id) at ams on --port $BASE: '$BODY'"

# ---- TypeScript, wrangler.jsonc --------------------------------------------------------------------
cp -r "$FIX/session" "$H/session"
start_dev session "$H/session" --pop fra
FRA=$(url session fra)
token=$(curl -sS --max-time 10 -X POST "$FRA/login?user=grace")
[[ "$token" =~ ^[0-9a-f-]{36}$ ]] || devfail "login: '$token'"
get "$FRA/me?token=$token"
[ "$BODY" = "user grace" ] || devfail "session: '$BODY'"
pass "TypeScript (wrangler.jsonc): a session stored and read at fra"
# Killed outright (no Ctrl-C handler runs), edgekv dev still takes workerd with it.
kill -9 "$DEV_PID"
wait "$DEV_PID" 2>/dev/null || true
for _ in $(seq 1 50); do
    gone "$WORKERD_PID" && break
    sleep 0.1
done
gone "$WORKERD_PID" || devfail "workerd $WORKERD_PID outlived a SIGKILLed edgekv dev"
rm -rf "${TMPDIR:?}"/edgekv-dev-* # only the temporary folder stays behind
nothing_left
pass "SIGKILL: workerd $WORKERD_PID stopped with edgekv dev"

expect_down "$H/state.json"
echo "$PASSED passed, 0 failed"
