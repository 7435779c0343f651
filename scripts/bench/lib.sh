# shellcheck shell=bash
# Shared shell of the benchmarks in scripts/bench: building, a private work folder, starting
# and stopping worlds and peers by pid, waiting for them, and the cleanup trap. What is
# computed from measurements (percentiles, medians, the rate ladder, JSON) is driver.py's.
#
# Usage, from a benchmark at the top of the repository:
#   source scripts/bench/lib.sh NAME     # work folder /tmp/edgekv-NAME.XXXXXX (under
#                                        # $EDGEKV_BENCH_TMP when set), traps set
#   bench_build TARGET...                # scripts/setup (unless EDGEKV_BENCH_SETUP=0: its
#                                        # npm ci reinstalls tests/browser's packages under
#                                        # whatever runs them), then builds into $BUILD
# Sets WORK, EDGEKV_HOME (= $WORK/home), BUILD (EDGEKV_BENCH_BUILD, default build), EKV,
# DRIVER. On exit (normal, error or signal) every tool, peer and world started through these
# functions is stopped by its pid and WORK is removed. Several worlds may be up at once, each
# in its own home (world_home NAME).
# ekv_topology (tests/integration/topology.sh) writes the topologies.
source "$(dirname "${BASH_SOURCE[0]}")/../../tests/integration/topology.sh"

WORK=$(mktemp -d "${EDGEKV_BENCH_TMP:-/tmp}/edgekv-$1.XXXXXX")
export EDGEKV_HOME="$WORK/home"
mkdir -p "$EDGEKV_HOME"
BUILD=${EDGEKV_BENCH_BUILD:-build}
EKV="$BUILD/bin/edgekv"
DRIVER="python3 $(dirname "${BASH_SOURCE[0]}")/driver.py"
CHILD=""        # the benchmark tools running now (run, run_both)
BENCH_PIDS=""   # peers started with bench_spawn (nginx, redis-server, a bare coordinator)
BENCH_HOMES="$EDGEKV_HOME" # every home a world may be up in, stopped by the cleanup

# world_home NAME: the world functions below act on the world in $WORK/home-NAME from now on.
world_home() {
    export EDGEKV_HOME="$WORK/home-$1"
    mkdir -p "$EDGEKV_HOME"
    [[ " $BENCH_HOMES " == *" $EDGEKV_HOME "* ]] || BENCH_HOMES="$BENCH_HOMES $EDGEKV_HOME"
}

bench_build() { # TARGET...: dependencies, then the targets into $BUILD
    [ "${EDGEKV_BENCH_SETUP:-1}" = 0 ] || scripts/setup
    cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    cmake --build "$BUILD" -j"$(nproc)" --target "$@" >/dev/null
}

stop_pids() { # PID...: TERM, then KILL what is left after 5 s; reaps this shell's children
    local pid
    for pid in "$@"; do kill "$pid" 2>/dev/null || true; done
    for pid in "$@"; do
        for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# world_pids: every daemon the state file records, one a line: coordinator, PoPs, tiers.
world_pids() {
    jq -r '.coordinator.pid, .pops[].pid, (.tiers // [])[].pid' "$EDGEKV_HOME/state.json"
}

# world_stop_recorded: `edgekv down`, then KILL anything its state file still records.
world_stop_recorded() {
    [ -f "$EDGEKV_HOME/state.json" ] || return 0
    local pids
    pids=$(world_pids 2>/dev/null) # read before `down` removes the file
    "$EKV" down >/dev/null 2>&1 || true
    for pid in $pids; do
        kill -9 "$pid" 2>/dev/null || true
    done
}

bench_cleanup() {
    set +e # every step runs, whatever the one before returned
    # shellcheck disable=SC2086 # one pid a word
    [ -n "$CHILD" ] && kill $CHILD 2>/dev/null && wait $CHILD 2>/dev/null
    # shellcheck disable=SC2086
    stop_pids $BENCH_PIDS
    for EDGEKV_HOME in $BENCH_HOMES; do world_stop_recorded; done
    rm -rf "$WORK"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_spawn COMMAND...: starts a peer in the background and records its pid (LAST_PID).
# Use `bench_spawn placed I COMMAND...` to pin it like PoP I.
bench_spawn() {
    "$@" &
    LAST_PID=$!
    BENCH_PIDS="$BENCH_PIDS $LAST_PID"
}

bench_stop_spawned() { # stops every peer bench_spawn started
    # shellcheck disable=SC2086
    stop_pids $BENCH_PIDS
    BENCH_PIDS=""
}

# run FILE COMMAND...: a tool in the background (so a signal reaches the cleanup at once),
# its standard output into FILE.
run() {
    local out=$1
    shift
    exec "$@" >"$out" & # exec: CHILD is the tool itself, not a subshell around it
    CHILD=$!
    wait "$CHILD"
    CHILD=""
}

# wait_for TENTHS COMMAND...: retries COMMAND every 0.1 s until it succeeds; 1 after TENTHS.
wait_for() {
    local tenths=$1
    shift
    for _ in $(seq 1 "$tenths"); do
        "$@" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    return 1
}

# world_up TOPOLOGY: `edgekv up`; sets COORD (its REST URL), POPS (a file of PoP URLs, one a
# line, beside the home), POP_PIDS, TIER_PIDS (empty in a world without tiers) and UP_S
# (seconds `edgekv up` took); exits when it fails.
# shellcheck disable=SC2034 # the benchmark reads what world_up sets
world_up() {
    local t0
    t0=$($DRIVER mono-us)
    "$EKV" up "$1" >"$EDGEKV_HOME.up.log" || { cat "$EDGEKV_HOME.up.log" >&2; exit 1; }
    UP_S=$($DRIVER since-us "$t0")
    "$EKV" status --json >"$EDGEKV_HOME.status.json"
    cp "$EDGEKV_HOME.status.json" "$WORK/status.json" # the last world's, for node-read
    COORD=$(jq -r .coordinator.url "$EDGEKV_HOME.status.json")
    POPS="$EDGEKV_HOME.pops.txt"
    jq -r '.pops[].url' "$EDGEKV_HOME.status.json" >"$POPS"
    POP_PIDS=$(jq -r '.pops[].pid' "$EDGEKV_HOME.status.json")
    TIER_PIDS=$(jq -r '(.tiers // [])[].pid' "$EDGEKV_HOME.status.json")
}

# world_select HOME: COORD, POPS and POP_PIDS of the world up in HOME (world_home's folder,
# after its world_up), and EDGEKV_HOME = HOME.
world_select() {
    export EDGEKV_HOME=$1
    COORD=$(jq -r .coordinator.url "$EDGEKV_HOME.status.json")
    POPS="$EDGEKV_HOME.pops.txt"
    POP_PIDS=$(jq -r '.pops[].pid' "$EDGEKV_HOME.status.json")
}

world_down() { "$EKV" down >/dev/null; }

# The CPUs this script may use, expanded ("0-2,5" -> 0 1 2 5); `placed I COMMAND` runs
# COMMAND (exec'd, same pid) on CPU ${CPUS[I % n]} alone, as `edgekv up` places PoP I, unless
# PIN is false or there is only one CPU.
CPUS=()
for r in $(taskset -cp $$ | sed 's/.*: //; s/,/ /g'); do
    # shellcheck disable=SC2207 # seq prints numbers
    if [[ $r == *-* ]]; then CPUS+=($(seq "${r%-*}" "${r#*-}")); else CPUS+=("$r"); fi
done
PIN=true
placed() {
    local i=$1
    shift
    if [ "$PIN" = true ] && [ "${#CPUS[@]}" -ge 2 ]; then
        exec taskset -c "${CPUS[$((i % ${#CPUS[@]}))]}" "$@"
    fi
    exec "$@"
}

# ---- Redis: a primary and N replicas (scripts/bench/redis and scripts/bench/fanout) ----------

redis_replicas_online() { # N: the primary counts N replicas online
    [ "$(redis-cli -p "$RPORT" info replication | grep -c 'state=online')" = "$1" ]
}

# redis_up N MODE: a primary and N replicas (one redis-server each, own port and folder, no
# snapshots), replica i placed like PoP i; MODE fsync: the primary runs appendonly yes +
# appendfsync always (fsync before the reply, as edgekv's coordinator), nofsync: appendonly no.
# Replicas send keyspace notifications (E$), redis_bench's visibility. Sets RPORT and RPORTS (a
# file of the replicas' ports); 1 when not all N replicas are online within 30 s + 0.2 s a
# replica (REDIS_WHY says so; the servers stay up for bench_stop_spawned).
redis_up() {
    local n=$1 mode=$2 ports i dir
    read -r -a ports <<<"$($DRIVER free-ports $((n + 1)))"
    RPORT=${ports[0]}
    RPORTS="$WORK/redis-ports-$n"
    : >"$RPORTS"
    local durable=(--appendonly yes --appendfsync always)
    [ "$mode" = nofsync ] && durable=(--appendonly no)
    dir="$WORK/redis-$n-$mode/primary"
    mkdir -p "$dir"
    bench_spawn redis-server --port "$RPORT" --bind 127.0.0.1 --dir "$dir" --save '' \
        "${durable[@]}" --daemonize no --logfile "$dir/log" --repl-diskless-sync yes \
        --repl-diskless-sync-delay 0 --repl-backlog-size 64mb
    wait_for 100 redis-cli -p "$RPORT" ping || true
    for i in $(seq 1 "$n"); do
        dir="$WORK/redis-$n-$mode/replica-$i"
        mkdir -p "$dir"
        bench_spawn placed $((i - 1)) redis-server --port "${ports[$i]}" --bind 127.0.0.1 \
            --dir "$dir" --save '' --appendonly no --daemonize no --logfile "$dir/log" \
            --replicaof 127.0.0.1 "$RPORT" --notify-keyspace-events 'E$'
        echo "${ports[$i]}" >>"$RPORTS"
    done
    wait_for $((300 + 2 * n)) redis_replicas_online "$n" && return 0
    REDIS_WHY="not all $n replicas online after $((30 + n / 5)) s"
    echo "redis: $REDIS_WHY" >&2
    return 1
}

# logged_gaps: "gap:" warnings in the PoP logs (gaps a PoP found in the change stream itself).
logged_gaps() {
    cat "$EDGEKV_HOME"/logs/p*.log 2>/dev/null | grep -c 'gap:' || true
}
