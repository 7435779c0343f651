#!/usr/bin/env bash
# PoPs forked by `edgekv-node --zygote` (node/zygote.h), as `edgekv up` starts them.
#   - `edgekv up` on three PoPs: each recorded pid is a child of the zygote (its command line
#     is `edgekv-node --zygote`), leads its own session, has /dev/null for input and its log
#     for output, runs on the CPUs `edgekv status` reports, and serves its health check.
#   - The zygote itself, fed requests directly:
#       * two well-formed requests: two pids, one line each, both PoPs running in their own
#         sessions on CPU 0 with their logs, the zygote gone with status 0 after its input;
#       * a PoP whose options are wrong: its pid is answered, it exits with status 2 and
#         says why in its log;
#       * a request whose argument count is 0 or too large: "-1 malformed request", status 1;
#       * input that ends inside a request: "-1 malformed request" (or no answer when it
#         ends inside the first field), status 1.
# Every process is stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
mkdir -p "$H/logs"

sid_of() { awk '{print $6}' "/proc/$1/stat"; }
cmdline_of() { tr '\0' ' ' <"/proc/$1/cmdline"; }

# ---- through `edgekv up` ------------------------------------------------------------------
"$EKV" up "$SRC/tests/integration/three-pops.yaml" >"$H/up.log" || fail "edgekv up: $(cat "$H/up.log")"
"$EKV" status --json >"$H/status.json"
for i in 0 1 2; do
    pid=$(jq -r ".pops[$i].pid" "$H/status.json")
    name=$(jq -r ".pops[$i].name" "$H/status.json")
    [ "$(cmdline_of "$pid")" = "edgekv-node --zygote " ] ||
        fail "PoP $name (pid $pid) was not forked by the zygote: $(cmdline_of "$pid")"
    [ "$(sid_of "$pid")" = "$pid" ] || fail "PoP $name does not lead its own session"
    [ "$(readlink "/proc/$pid/fd/0")" = /dev/null ] || fail "PoP $name reads $(readlink "/proc/$pid/fd/0")"
    [ "$(readlink "/proc/$pid/fd/1")" = "$H/logs/$name.log" ] ||
        fail "PoP $name writes to $(readlink "/proc/$pid/fd/1")"
    cpus=$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$pid/status")
    [ "$cpus" = "$(jq -r ".pops[$i].cpus" "$H/status.json")" ] || fail "PoP $name runs on CPUs $cpus"
    curl -sf "$(jq -r ".pops[$i].url" "$H/status.json")/_edgekv/health" >/dev/null ||
        fail "PoP $name does not answer its health check"
done
pass "edgekv up: three PoPs forked by the zygote, each in its own session, pinned, logging, serving"
"$EKV" down >/dev/null || fail "edgekv down"

# ---- the zygote, directly -----------------------------------------------------------------
# request CPU LOG ARG...: one request on standard output.
request() {
    local cpu=$1 log=$2
    shift 2
    printf '%s\0%s\0%s\0' "$cpu" "$log" "$#"
    printf '%s\0' "$@"
}
pop_args() { # NAME: options of a PoP that runs without a coordinator answering
    echo "edgekv-node --name $1 --http 127.0.0.1:0 --pub tcp://127.0.0.1:9 --router tcp://127.0.0.1:9"
}

# shellcheck disable=SC2046 # the options split into words on purpose
{ request 0 "$H/logs/z1.log" $(pop_args z1); request 0 "$H/logs/z2.log" $(pop_args z2); } |
    "$BIN/edgekv-node" --zygote >"$H/z.out" && rc=0 || rc=$?
[ "$rc" = 0 ] || fail "zygote exited with $rc after two good requests"
[ "$(wc -l <"$H/z.out")" = 2 ] || fail "zygote answered: $(cat "$H/z.out")"
PIDS=$(cat "$H/z.out")
sleep 0.5
for pid in $PIDS; do
    [[ $pid =~ ^[0-9]+$ ]] || fail "zygote answered $pid, not a pid"
    ! gone "$pid" || fail "PoP $pid is not running"
    [ "$(sid_of "$pid")" = "$pid" ] || fail "PoP $pid does not lead its own session"
    [ "$(awk '/^Cpus_allowed_list/ {print $2}' "/proc/$pid/status")" = 0 ] || fail "PoP $pid is not on CPU 0"
done
for pid in $PIDS; do
    out=$(readlink "/proc/$pid/fd/1")
    [ "$out" = "$H/logs/z1.log" ] || [ "$out" = "$H/logs/z2.log" ] || fail "PoP $pid writes to $out"
done
pass "two requests: two pids, PoPs running in their own sessions on CPU 0 with their logs"

request -1 "$H/logs/z3.log" edgekv-node --name z3 --policy bogus | "$BIN/edgekv-node" --zygote >"$H/z3.out" ||
    fail "zygote failed on a request for a PoP with a bad option"
bad=$(cat "$H/z3.out")
for _ in $(seq 1 50); do
    gone "$bad" && break
    sleep 0.1
done
gone "$bad" || { PIDS="$PIDS $bad"; fail "the PoP with a bad option still runs"; }
grep -q "bad value for --policy" "$H/logs/z3.log" || fail "z3's log: $(cat "$H/logs/z3.log")"
pass "a PoP with a bad option is started, exits and says why in its log"

for count in 0 300; do
    printf '%s\0%s\0%s\0%s\0' 0 "$H/logs/z4.log" "$count" edgekv-node |
        "$BIN/edgekv-node" --zygote >"$H/z4.out" && rc=0 || rc=$?
    [ "$rc" = 1 ] && [ "$(cat "$H/z4.out")" = "-1 malformed request" ] ||
        fail "argument count $count: status $rc, answer $(cat "$H/z4.out")"
done
printf '0\0%s\0' "$H/logs/z5.log" | "$BIN/edgekv-node" --zygote >"$H/z5.out" && rc=0 || rc=$?
[ "$rc" = 1 ] && [ "$(cat "$H/z5.out")" = "-1 malformed request" ] ||
    fail "truncated request: status $rc, answer $(cat "$H/z5.out")"
printf '0' | "$BIN/edgekv-node" --zygote >"$H/z6.out" && rc=0 || rc=$?
[ "$rc" = 1 ] && [ ! -s "$H/z6.out" ] || fail "a cut first field: status $rc, answer $(cat "$H/z6.out")"
pass "malformed and truncated requests are refused with status 1, nothing started"

echo "$PASSED passed"
