# shellcheck shell=bash
# Shared by the `edgekv dev` tests (dev_test.sh, examples_test.sh): lib.sh and Node.js >= 20
# (scripts/lib/node.sh; exit 2 without), runs of `edgekv dev` in the background, stopped by pid
# (theirs and their workerd's) whatever happens, and the shipped kv world they run in.
# Usage: source dev_lib.sh BIN_DIR SRC_DIR. Sets H (EDGEKV_HOME), TMPDIR, TS and TTL.
source "$(dirname "${BASH_SOURCE[0]}")/../integration/lib.sh" "$1" "$2"
# shellcheck source-path=SCRIPTDIR
. "$SRC/scripts/lib/node.sh"
ekv_use_node || exit 2

H=$EDGEKV_HOME
TS=10               # time_scale: one simulated second is 100 real ms
# shellcheck disable=SC2034 # used by the tests
TTL=$((60000 / TS)) # 60 s, the default cacheTtl (the Workers' and the tiers' copies), in real ms
# edgekv dev's temporary folders (workerd's config) go here: a process whose command line names
# this folder, or a file left in it, is something a run left behind.
export TMPDIR=$H/tmp
mkdir -p "$TMPDIR"
DEV_PIDS=()
WORKERD_PIDS=()

dev_cleanup() {
    local pid
    for pid in "${DEV_PIDS[@]}" "${WORKERD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    reap_or_kill 50 "${DEV_PIDS[@]}" "${WORKERD_PIDS[@]}"
}
trap 'dev_cleanup; ekv_cleanup' EXIT

# devfail MESSAGE...: fail, after the end of every run's output (less workerd's console warnings).
devfail() {
    local f
    for f in "$H"/dev-*.out "$H"/dev-*.err; do
        [ -f "$f" ] || continue
        echo "--- $f" >&2
        { grep -v 'console warning' "$f" || true; } | tail -15 >&2
    done
    fail "$@"
}

# start_dev NAME DIR ARGS...: `edgekv dev ARGS` in DIR in the background until its "ready" line;
# sets DEV_PID and WORKERD_PID; its output in $H/dev-NAME.{out,err}.
start_dev() {
    local name=$1 dir=$2
    shift 2
    (cd "$dir" && exec "$EKV" dev "$@") >"$H/dev-$name.out" 2>"$H/dev-$name.err" &
    DEV_PID=$!
    DEV_PIDS+=("$DEV_PID")
    for _ in $(seq 1 1200); do # the first run installs workerd and esbuild from npm
        grep -q '^ready: ' "$H/dev-$name.out" && break
        gone "$DEV_PID" && devfail "edgekv dev ($name) exited before it was ready"
        sleep 0.1
    done
    grep -q '^ready: ' "$H/dev-$name.out" || devfail "edgekv dev ($name) not ready"
    WORKERD_PID=$(sed -n 's/^ready: .*(workerd pid \([0-9]*\))$/\1/p' "$H/dev-$name.out")
    [ -n "$WORKERD_PID" ] || devfail "no workerd pid in: $(cat "$H/dev-$name.out")"
    WORKERD_PIDS+=("$WORKERD_PID")
}

# url NAME POP: the URL the table of dev-NAME gives for POP.
url() {
    awk -v p="$2" '$1 == p && $4 ~ /^http:/ { print $4 }' "$H/dev-$1.out"
}

# tmpdir_empty [NAME]: nothing is left in TMPDIR.
tmpdir_empty() {
    [ -z "$(ls -A "$TMPDIR")" ] || devfail "${1:+$1: }left in $TMPDIR: $(ls -A "$TMPDIR")"
}

# stop_dev NAME: Ctrl-C, as a user would; exit 0 within 10 s with workerd gone and its files
# removed.
stop_dev() {
    local rc=0
    kill -INT "$DEV_PID"
    for _ in $(seq 1 100); do
        gone "$DEV_PID" && break
        sleep 0.1
    done
    gone "$DEV_PID" || devfail "edgekv dev ($1) still running 10 s after Ctrl-C:" \
        "$(ps -o pid=,stat=,etime=,args= -p "$DEV_PID" -p "$WORKERD_PID")"
    wait "$DEV_PID" || rc=$?
    [ "$rc" = 0 ] || devfail "edgekv dev ($1) exited $rc after Ctrl-C"
    gone "$WORKERD_PID" || devfail "$1: workerd $WORKERD_PID still running after Ctrl-C"
    tmpdir_empty "$1"
}

now_ms() { echo $((${EPOCHREALTIME/[.,]/} / 1000)); }

# up_shipped_world: `edgekv up` of the shipped topology.yaml (policy kv) with ephemeral ports and
# time_scale TS, as kv_world_test.sh runs it; its output in $H/up.log.
up_shipped_world() {
    local w=$H/world.yaml
    sed -E -e 's/^(  (http|pub|router)_port:) [0-9]+/\1 0/' \
        -e 's/^(  http_port_base:) [0-9]+/\1 0/' -e "s/^(  time_scale:) [0-9.]+/\\1 $TS/" \
        "$SRC/topology.yaml" >"$w"
    grep -q "^  time_scale: $TS" "$w" && grep -q '^  policy: kv' "$w" ||
        fail "the shipped topology.yaml changed: no time_scale or policy kv line"
    "$EKV" up "$w" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
}
