#!/usr/bin/env bash
# The walking skeleton end to end: coordinator + 3 PoPs (0, 20, 80 ms) on ephemeral loopback
# ports. A put through each PoP becomes readable at the other two, and each PoP's measured
# visibility delay is within 2 ms of its configured one-way delay. Also: a second `up` is
# refused, status reports every process, a bad key gets the KV-SPEC status and message, and
# `down` leaves no process behind.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

"$EKV" up "$SRC/tests/integration/three-pops.yaml" >/dev/null || fail "edgekv up"
pass "up"

if "$EKV" up "$SRC/tests/integration/three-pops.yaml" 2>"$EDGEKV_HOME/err"; then
    fail "a second up was accepted"
fi
grep -q "already running" "$EDGEKV_HOME/err" || fail "second up did not say it is running"
pass "second up refused"

"$EKV" status --json >"$EDGEKV_HOME/status.json"
jq -e '.coordinator.pid > 0 and (.coordinator.url | startswith("http://127.0.0.1:"))
       and (.pops | length == 3)
       and all(.pops[]; .pid > 0 and (.url | startswith("http://127.0.0.1:")) and .running)
       and ([.pops[].delay_ms] == [0, 20, 80])' "$EDGEKV_HOME/status.json" >/dev/null ||
    fail "status --json: $(cat "$EDGEKV_HOME/status.json")"
pass "status --json"

# Placement: with two or more CPUs, PoP i runs on CPU i mod n alone, every thread of it
# (ZeroMQ's I/O thread included).
mine=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status)
if [ "$(nproc)" -ge 2 ]; then
    cpus=()
    for name in near mid far; do
        pid=$(jq -r --arg n "$name" '.pops[] | select(.name == $n) | .pid' "$EDGEKV_HOME/status.json")
        lists=$(cat /proc/"$pid"/task/*/status | awk '/^Cpus_allowed_list/ {print $2}' | sort -u)
        [[ $lists =~ ^[0-9]+$ ]] || fail "$name runs on CPUs '$lists', not one"
        [ "$(ls /proc/"$pid"/task | wc -l)" -ge 2 ] || fail "$name has fewer than 2 threads"
        cpus+=("$lists")
        [ "$(jq -r --arg n "$name" '.pops[] | select(.name == $n) | .cpus' "$EDGEKV_HOME/status.json")" = "$lists" ] ||
            fail "status --json does not give $name's CPU $lists"
    done
    [ "${cpus[0]}" != "${cpus[1]}" ] || fail "PoPs 0 and 1 share CPU ${cpus[0]}"
    # The coordinator: its loop and commit thread share one CPU when the disk under its data
    # folder completes its I/O on one CPU (--commit-cpu auto), or are not pinned; its ZeroMQ
    # I/O thread is never pinned.
    cpid=$(jq -r .coordinator.pid "$EDGEKV_HOME/status.json")
    ccpus() { # THREAD-NAME -> its Cpus_allowed_list
        local t
        for t in /proc/"$cpid"/task/*; do
            [ "$(cat "$t/comm")" = "$1" ] && awk '/^Cpus_allowed_list/ {print $2}' "$t/status" && return
        done
    }
    loop=$(awk '/^Cpus_allowed_list/ {print $2}' /proc/"$cpid"/status)
    [ "$(ccpus ekv-commit)" = "$loop" ] || fail "commit thread on '$(ccpus ekv-commit)', loop on '$loop'"
    [ "$(ccpus ZMQbg/IO/0)" = "$mine" ] || fail "the coordinator's I/O thread is pinned"
    [ "$loop" = "$mine" ] || [[ $loop =~ ^[0-9]+$ ]] || fail "the coordinator's loop on '$loop'"
    pass "each PoP on one CPU (${cpus[*]}); the coordinator's loop and commit thread on $loop, its I/O thread on $mine"
fi

url() { jq -r --arg n "$1" '.pops[] | select(.name == $n) | .url' "$EDGEKV_HOME/status.json"; }

# A put through one PoP, readable at the other two (raw HTTP, the binding protocol).
curl -sf -X PUT --data-binary "v-from-near" -H 'CF-KV-Metadata: {"by":"near"}' \
    "$(url near)/greeting?urlencoded=true" >/dev/null || fail "put through near"
for pop in mid far; do
    body=""
    for _ in $(seq 1 100); do
        body=$(curl -s "$(url $pop)/greeting?urlencoded=true") || true
        [ "$body" = "v-from-near" ] && break
        sleep 0.02
    done
    [ "$body" = "v-from-near" ] || fail "$pop serves '$body'"
    meta=$(curl -s -D - -o /dev/null "$(url $pop)/greeting" | tr -d '\r' |
        sed -n 's/^CF-KV-Metadata: //Ip')
    [ "$meta" = '{"by":"near"}' ] || fail "$pop metadata '$meta'"
done
pass "put through near readable at mid and far with metadata"

# The probe from every PoP: no PoP sees a change before its configured delay (0.5 ms for
# clock reads), none more than 5 ms after it. Late is bounded loosely, and a late probe is
# tried again (up to 3 in all, never after an early one): ctest runs two tests at once on
# this 2-core machine, a PoP's timer then fired up to 2.9 ms late, and on a busy host a PoP
# of either build (before and after commit a5b5d0c) was once seen 3.5-6.9 ms late in a
# dozen runs (the delay line's own precision is measured in docs/performance-log.md).
for from in near mid far; do
    "$EKV" probe --json --from "$from" --tolerance-ms 5 --attempts 3 >"$EDGEKV_HOME/probe.json" ||
        fail "probe from $from: $(cat "$EDGEKV_HOME/probe.json")"
    jq -e '(.pops | length == 3) and all(.pops[]; .readable and .measured_ms != null
            and (.measured_ms - .configured_ms) >= -0.5
            and (.measured_ms - .configured_ms) <= 5)' \
        "$EDGEKV_HOME/probe.json" >/dev/null || fail "probe from $from out of tolerance"
    jq -r '.pops[] | "   \(.name): configured \(.configured_ms) ms, measured \(.measured_ms) ms"' \
        "$EDGEKV_HOME/probe.json"
done
pass "probe from each PoP: never early, at most 5 ms late"

# The probe's verdicts: a PoP that stays late is probed again and then fails; one that is
# early fails at once, without another attempt. `fault slow` changes mid's real delay, not
# the configured one the probe compares with.
"$EKV" fault slow mid 40 >/dev/null || fail "fault slow mid 40"
"$EKV" probe --from near --tolerance-ms 5 --attempts 2 >/dev/null 2>"$EDGEKV_HOME/probe.err" &&
    fail "probe passed with mid 20 ms late"
grep -q 'attempt 1 of 2: PoP mid is outside' "$EDGEKV_HOME/probe.err" ||
    fail "a late PoP was not probed again: $(cat "$EDGEKV_HOME/probe.err")"
# The final verdict names mid alone. An attempt before it may also name near or far: a host
# that stalls for over 5 ms makes an on-time PoP late once (seen in CI, near +6.1 ms), and
# that is what the second attempt is for.
grep -v 'attempt [0-9]* of [0-9]*:' "$EDGEKV_HOME/probe.err" | grep -q 'PoP near\|PoP far' &&
    fail "PoPs on time reported: $(cat "$EDGEKV_HOME/probe.err")"
# mid 8 ms early (inside a 10 ms tolerance, but early all the same) while far is 20 ms late:
# margins wide enough that a timer firing a few ms late (ASan builds on a busy host, seen
# 1.25 ms in CI) cannot make mid look on time or far look within the tolerance.
"$EKV" fault slow mid 12 >/dev/null || fail "fault slow mid 12"
"$EKV" fault slow far 100 >/dev/null || fail "fault slow far 100"
"$EKV" probe --from near --tolerance-ms 10 --attempts 3 >/dev/null 2>"$EDGEKV_HOME/probe.err" &&
    fail "probe passed with mid 8 ms early"
grep -q 'attempt' "$EDGEKV_HOME/probe.err" && fail "an early PoP was probed again"
grep -q 'PoP mid saw the change [0-9][0-9.]* ms before its delay' "$EDGEKV_HOME/probe.err" ||
    fail "early mid not reported: $(cat "$EDGEKV_HOME/probe.err")"
grep -q 'PoP far is outside the tolerance of 10.000 ms (+[0-9]' "$EDGEKV_HOME/probe.err" ||
    fail "late far not reported: $(cat "$EDGEKV_HOME/probe.err")"
"$EKV" fault slow mid 20 >/dev/null || fail "fault slow mid 20"
"$EKV" fault slow far 80 >/dev/null || fail "fault slow far 80"
"$EKV" probe --from near --tolerance-ms 5 --attempts 3 >/dev/null || fail "probe after mid's delay was restored"
pass "probe: a late PoP is probed again, then fails; an early one fails at once"

# Bad input gets the KV-SPEC status and message, and the PoP keeps serving.
long=$(head -c 513 /dev/zero | tr '\0' 'k')
line=$(curl -s -o /dev/null -w '%{http_code}' "$(url mid)/$long")
[ "$line" = "414" ] || fail "513-byte key: status $line"
reason=$(curl -s -D - -o /dev/null "$(url mid)/$long" | head -1 | tr -d '\r')
[ "$reason" = "HTTP/1.1 414 UTF-8 encoded length of 513 exceeds key length limit of 512." ] ||
    fail "513-byte key: '$reason'"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url mid)/%zz")
[ "$code" = "400" ] || fail "bad percent-encoding: $code"
code=$(curl -s -o /dev/null -w '%{http_code}' "$(url mid)/missing-key")
[ "$code" = "404" ] || fail "missing key: $code"
body=$(curl -s "$(url mid)/greeting")
[ "$body" = "v-from-near" ] || fail "mid stopped serving after bad input"
pass "bad input answered per KV-SPEC, PoP still serving"

expect_down "$EDGEKV_HOME/status.json"
[ ! -f "$EDGEKV_HOME/state.json" ] || fail "state.json left behind"

echo "$PASSED passed, 0 failed"
