# Shared helpers of the shell integration tests: a private EDGEKV_HOME, cleanup that stops
# exactly what the test started (by the pids edgekv recorded), and assertions.
# Usage: source lib.sh BIN_DIR SRC_DIR
# ekv_topology (topology.sh) writes a test topology: ekv_topology FILE [SETTING...] [POP...].
source "$(dirname "${BASH_SOURCE[0]}")/topology.sh"
BIN=$1
SRC=$2
EKV="$BIN/edgekv"
export EDGEKV_HOME
EDGEKV_HOME=$(mktemp -d /tmp/edgekv-test.XXXXXX)
PASSED=0
PIDS=""    # processes the test started itself (daemons, clients), stopped first by ekv_cleanup
RUN_PID="" # a background `edgekv run` of the test's, stopped next by ekv_cleanup

# kill_worlds STATE_JSON...: SIGKILL to every process a state file records (coordinator, PoPs,
# tiers) while it is still an edgekv program (a pid may be reused); missing files are skipped.
kill_worlds() {
    local st pid
    for st in "$@"; do
        [ -f "$st" ] || continue
        for pid in $(jq -r '.coordinator.pid, .pops[].pid, (.tiers // [])[].pid' "$st" \
            2>/dev/null); do
            if grep -qa edgekv "/proc/$pid/cmdline" 2>/dev/null; then
                kill -9 "$pid" 2>/dev/null || true
            fi
        done
    done
}

# stop_started: stops the processes of PIDS (stop_pids) and empties it.
stop_started() {
    # shellcheck disable=SC2086 # one pid a word
    [ -z "$PIDS" ] || stop_pids $PIDS
    PIDS=""
}

# Stops what the test started: PIDS, RUN_PID, the worlds its `edgekv run`s recorded under
# out*/ (should a run have died without stopping them), and its own world.
ekv_cleanup() {
    stop_started
    if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then
        kill "$RUN_PID" 2>/dev/null || true
        wait "$RUN_PID" 2>/dev/null || true
    fi
    kill_worlds "$EDGEKV_HOME"/out*/state-*/state.json
    if [ -f "$EDGEKV_HOME/state.json" ]; then
        "$EKV" down >/dev/null 2>&1 || true
        # Belt and braces: anything still recorded is killed by pid.
        kill_worlds "$EDGEKV_HOME/state.json"
    fi
    rm -rf "$EDGEKV_HOME"
}
trap ekv_cleanup EXIT
trap 'exit 130' INT TERM

fail() {
    echo "FAIL: $*" >&2
    for f in "$EDGEKV_HOME"/logs/*.log; do
        [ -f "$f" ] && { echo "--- $f" >&2; tail -5 "$f" >&2; }
    done
    echo "$PASSED passed, 1 failed"
    exit 1
}

pass() {
    echo "ok: $*"
    PASSED=$((PASSED + 1))
}

# A process is gone when kill -0 fails or it is a zombie.
gone() {
    ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' "/proc/$1/status" 2>/dev/null
}

# reap_or_kill TENTHS PID...: waits up to TENTHS tenths of a second for each to be gone, then
# KILLs it; reaps those that are this shell's children.
reap_or_kill() {
    local tenths=$1 pid
    shift
    for pid in "$@"; do
        for _ in $(seq 1 "$tenths"); do
            gone "$pid" && break
            sleep 0.1
        done
        kill -9 "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
}

# stop_pids PID...: TERM to each, then KILL to any still there after 5 s.
stop_pids() {
    local pid
    for pid in "$@"; do
        kill "$pid" 2>/dev/null || true
    done
    reap_or_kill 50 "$@"
}

# wait_ready NAME PID FILE: waits for the ready file of a process this test started itself;
# fails with the end of its log ($H/logs/NAME.log, or under $EDGEKV_HOME) if it exits first.
wait_ready() {
    for _ in $(seq 1 200); do
        [ -s "$3" ] && return 0
        gone "$2" && fail "$1 exited at start: $(tail -3 "${H:-$EDGEKV_HOME}/logs/$1.log")"
        sleep 0.05
    done
    fail "$1 not ready"
}

# metric URL NAME: the value of the sample NAME in URL/metrics (with or without labels).
metric() {
    curl -s --max-time 5 "$1/metrics" | awk -v n="$2" '$1 ~ ("^" n "({.*})?$") {print $2; exit}'
}

# expect_down STATUS_JSON: `edgekv down` stops every process the status file lists.
expect_down() {
    local pids pid n=0
    pids=$(jq -r '.coordinator.pid, .pops[].pid, (.tiers // [])[].pid' "$1")
    "$EKV" down >/dev/null || fail "edgekv down"
    for pid in $pids; do
        gone "$pid" || fail "process $pid still running after down"
        n=$((n + 1))
    done
    pass "down stopped all $n processes"
}

# poll_applied URL SEQ TRIES [PAUSE]: asks the PoP at URL for its applied_seq (0 while it does
# not answer) until it reaches SEQ, TRIES times at most, PAUSE s apart (0.1); APPLIED is the
# last one read. True once it is SEQ or more.
poll_applied() {
    APPLIED=0
    for _ in $(seq 1 "$3"); do
        APPLIED=$(curl -sf --max-time 5 "$1/_edgekv/health" | jq -r .applied_seq) || APPLIED=0
        [ "$APPLIED" -ge "$2" ] && return 0
        sleep "${4:-0.1}"
    done
    return 1
}

# mechanism tcp://ADDRESS:PORT | PORT: the security mechanism (NULL, CURVE) the ZMTP greeting
# of a ZeroMQ endpoint names (zmtp_mechanism.py).
mechanism() {
    python3 "$SRC/tests/integration/zmtp_mechanism.py" "$1"
}

# rest METHOD PATH [BODY-FILE]: a REST call to the coordinator ($C$API PATH, within
# REST_MAX_TIME s, 20 unless the test sets it); sets CODE and BODY (CODE 000 without a reply).
rest() {
    local out
    if [ $# -ge 3 ]; then
        out=$(curl -s --max-time "${REST_MAX_TIME:-20}" -X "$1" \
            -H 'Content-Type: application/json' --data-binary @"$3" -w '\n%{http_code}' \
            "$C$API$2") || out=$'\n000'
    else
        out=$(curl -s --max-time "${REST_MAX_TIME:-20}" -X "$1" -w '\n%{http_code}' "$C$API$2") ||
            out=$'\n000'
    fi
    # shellcheck disable=SC2034 # used by the tests
    CODE=${out##*$'\n'}
    # shellcheck disable=SC2034
    BODY=${out%$'\n'*}
}
