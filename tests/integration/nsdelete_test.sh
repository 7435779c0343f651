#!/usr/bin/env bash
# Namespace deletion loses nothing, resurrects nothing and never stalls the coordinator.
# Topology: a coordinator (fsync) and two PoPs on ephemeral loopback ports: a (push-all, holds
# every key) and b (push, holds what it read or wrote). Keys in the default namespace and in
# a namespace "other" are written first, so the coordinator's digest count is never trivially
# 0: after every deletion it must equal exactly those keys (plus any written later).
#   orphans: a namespace of 20,000 keys, then three times one of 200 (with all its writes,
#        less than one listing page), is deleted while two REST and two PoP writers (through
#        b, namespace header; one of each with 16 writes in flight) and three bulk writes of
#        new keys run against it. After the DELETE's 200: the namespace is 404, every write
#        was either acknowledged or refused with 404 "namespace not found" (never 5xx), no key
#        of it is served by a or b, the coordinator's digest counts only the other namespaces'
#        keys and a's digest equals the coordinator's. A DELETE whose client gives up after
#        0.2 s still deletes every key, and the coordinator lives on.
#   default: the same with the default namespace (one-at-a-time writers only, the PoP writer
#        sends no header, so a write acknowledged after a refusal came after the deletion). Right
#        after the DELETE it exists again, empty but for writes made after the deletion; after
#        a kill -9 and restart of the coordinator it still holds exactly those keys.
#   heartbeats: while 100,000 keys are deleted, a's coordinator_up stays true (polled every
#        100 ms), b answers reads of "other" keys it never held (origin reads) with 200, and
#        the coordinator's /health answers within 1 s.
#   resume: the coordinator is killed (SIGKILL) while it deletes 100,000 keys and restarted:
#        the namespace is 404 at once (writes to it too), and within 30 s none of its keys
#        remain (digest count) and the PoPs serve none.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
API=/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces
DEF=00000000000000000000000000000000
NSH=X-Edgekv-Namespace
# shellcheck disable=SC2034 # read by rest (lib.sh)
REST_MAX_TIME=60 # a large deletion takes a while
BG="" # background jobs of this script (writers, DELETE requests), stopped before cleanup

stop_bg() {
    # shellcheck disable=SC2086 # one pid a word
    [ -z "$BG" ] || stop_pids $BG
    BG=""
}
trap 'stop_bg; ekv_cleanup' EXIT

ekv_topology "$H/topo.yaml" policy=push-all write_rate_limit=0 a:0 'b:0:Madrid,policy: push'

# ---- helpers ------------------------------------------------------------------------------

refresh_status() {
    "$EKV" status --json >"$H/status.json" || fail "status --json"
    C=$(jq -r .coordinator.url "$H/status.json")
    CPID=$(jq -r .coordinator.pid "$H/status.json")
    A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/status.json")
    B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/status.json")
}

# wait_exited PID: until every thread of PID has exited (10 s at most). After a SIGKILL the
# leader can show Z while another thread (one in fsync, say) still holds the process's files,
# the store's lock among them, and `edgekv fault restart-coordinator` takes Z for gone.
wait_exited() {
    local t alive
    for _ in $(seq 1 100); do
        alive=""
        for t in /proc/"$1"/task/*/stat; do
            awk '{ s = substr($0, index($0, ") ") + 2, 1); exit s == "Z" || s == "X" }' "$t" \
                2>/dev/null && alive=1
        done
        [ -n "$alive" ] || return 0
        sleep 0.1
    done
    fail "process $1 still has threads 10 s after SIGKILL"
}

ns_create() {
    rest POST "" <(jq -nc --arg t "$1" '{title: $t}')
    [ "$CODE" = 200 ] || fail "create namespace $1: $CODE $BODY"
    jq -r .result.id <<<"$BODY"
}

# expect_ns_missing NSID WHAT: GET of the namespace is 404 with code 10013.
expect_ns_missing() {
    rest GET "/$1"
    [ "$CODE" = 404 ] && jq -e '.errors[0].code == 10013' <<<"$BODY" >/dev/null ||
        fail "$2: namespace $1 is $CODE $(head -c 200 <<<"$BODY")"
}

# fill NSID PREFIX FROM TO: REST bulk writes of PREFIX<i> = v-PREFIX<i>, 10,000 a request.
fill() {
    local from=$3 to
    while [ "$from" -le "$4" ]; do
        to=$((from + 9999 > $4 ? $4 : from + 9999))
        jq -nc --arg p "$2" --argjson f "$from" --argjson t "$to" \
            '[range($f; $t + 1) | {key: "\($p)\(.)", value: "v-\($p)\(.)"}]' >"$H/fill.json"
        rest PUT "/$1/bulk" "$H/fill.json"
        [ "$CODE" = 200 ] && jq -e --argjson n $((to - from + 1)) \
            '.result.successful_key_count == $n' <<<"$BODY" >/dev/null ||
            fail "bulk write $2$from..$2$to to $1: $CODE $(head -c 200 <<<"$BODY")"
        from=$((to + 1))
    done
}

coord_entries() { curl -sf --max-time 30 "$C/_edgekv/digest" | jq -r .entries; }
# wait_entries WANT TRIES PAUSE: until the coordinator's digest counts WANT entries, TRIES times
# at most PAUSE s apart; N is the last count (-1 without an answer).
wait_entries() {
    N=-1
    for _ in $(seq 1 "$2"); do
        N=$(coord_entries) || N=-1
        [ "$N" = "$1" ] && return 0
        sleep "$3"
    done
    return 1
}
coord_seq() { curl -sf --max-time 5 "$C/health" | jq -r .seq; }
coord_writes() {
    curl -sf --max-time 5 "$C/metrics" | awk '/^edgekv_operations_total{op="write"}/ { print $2 }'
}

# caught_up WHAT: both PoPs have applied the coordinator's latest sequence (10 s at most).
caught_up() {
    local seq pop
    seq=$(coord_seq) || fail "$1: no /health from the coordinator"
    for pop in "$A" "$B"; do
        poll_applied "$pop" "$seq" 100 || fail "$1: $pop applied seq $APPLIED of $seq within 10 s"
    done
}

# same_digest WHAT: a (push-all) holds exactly what the coordinator holds.
same_digest() {
    local cd ad
    cd=$(curl -sf --max-time 30 "$C/_edgekv/digest" | jq -c '[.digest, .entries]')
    ad=$(curl -sf --max-time 30 "$A/_edgekv/entries?max=0" | jq -c '[.digest, .entries]')
    [ "$cd" = "$ad" ] || fail "$1: coordinator digest $cd, PoP a $ad"
}

# pop_codes POP NSID KEYS-FILE: the status of a read of each key through POP, one a line.
pop_codes() {
    local urls=() k
    while read -r k; do
        urls+=("$1/$k?urlencoded=true")
    done <"$3"
    [ ${#urls[@]} -gt 0 ] || return 0
    curl -s --max-time 60 -H "$NSH: $2" -w $'\037%{http_code}\036' "${urls[@]}" |
        awk 'BEGIN { RS = "\036"; FS = "\037" } NF >= 2 { print $2 }'
}

# expect_codes WHAT NSID KEYS-FILE CODE: every key reads CODE through a and through b.
expect_codes() {
    local pop got n
    n=$(wc -l <"$3")
    for pop in "$A" "$B"; do
        got=$(pop_codes "$pop" "$2" "$3" | sort | uniq -c | tr -s ' ' | sed 's/^ //')
        [ "$got" = "$n $4" ] || [ "$n" = 0 ] ||
            fail "$1: reads of $n keys through $pop, want all $4, got: $(tr "\n" " " <<<"$got")"
    done
}

# writer KIND NSID TAG: writes keys w<TAG><KIND>-<i> until $H/stop exists (at most 100
# batches, 40 s), one line "STATUS KEY BODY" a write in $H/w-KIND.out (the body of refusals
# only). KIND rest and pop (through b) write one key at a time, so their lines are in the
# order of the writes; restp and popp keep 16 writes in flight (64 a batch), so that writes
# are queued at the coordinator whenever the DELETE arrives; they start once $H/go exists.
writer() {
    local kind=$1 ns=$2 tag=$3 i=1 n url deadline=$((SECONDS + 40)) opts=()
    local dir="$H/w-$kind.d"
    mkdir -p "$dir"
    case $kind in
    rest | pop) n=20 ;;
    *) n=64 opts=(--parallel --parallel-max 16)
       for _ in $(seq 1 200); do
           [ ! -e "$H/go" ] || break
           sleep 0.05
       done ;;
    esac
    case $kind in
    rest*) url="$C$API/$ns/values/w$tag$kind-" ;;
    *) url="$B/w$tag$kind-"
       [ "$ns" = "$DEF" ] || opts+=(-H "$NSH: $ns") ;;
    esac
    for _ in $(seq 1 100); do
        [ ! -e "$H/stop" ] && [ "$SECONDS" -lt "$deadline" ] || break
        # [i-j] is curl's URL range; #1 names each reply's file after its number.
        curl -s --no-progress-meter --max-time 30 -X PUT --data-binary x "${opts[@]}" \
            -o "$dir/#1" -w '%{http_code} %{url_effective}\n' \
            "${url}[$i-$((i + n - 1))]?urlencoded=true" |
            awk -v dir="$dir" '{
                k = $2; sub(/\?.*/, "", k); sub(/.*\//, "", k); f = k; sub(/.*-/, "", f)
                body = ""
                if ($1 != 200) {
                    while ((getline line < (dir "/" f)) > 0) body = body " " line
                    close(dir "/" f)
                }
                print $1, k, body }' >>"$H/w-$kind.out" || true
        i=$((i + n))
    done
}

# start_writers NSID TAG KIND...: the writers in the background.
start_writers() {
    local ns=$1 tag=$2 kind
    shift 2
    rm -f "$H/stop" "$H/go" "$H"/w-*.out
    WRITERS="$*"
    for kind in "$@"; do
        : >"$H/w-$kind.out"
        writer "$kind" "$ns" "$tag" &
        BG="$BG $!"
    done
}

stop_writers() {
    touch "$H/stop"
    local pid
    for pid in $BG; do
        reap_or_kill 300 "$pid"
    done
    BG=""
}

# check_refusals WHAT: every write not acknowledged was refused with 404 namespace not found.
check_refusals() {
    local bad kind
    for kind in $WRITERS; do
        case $kind in
        rest*) bad=$(awk '$1 != 200 && !($1 == 404 &&
                /"code":10013,"message":"namespace not found"/)' "$H/w-$kind.out" | head -3) ;;
        *) bad=$(awk '$1 != 200 && !($1 == 404 && /namespace not found/)' "$H/w-$kind.out" |
            head -3) ;;
        esac
        [ -z "$bad" ] || fail "$1: $kind writes refused otherwise than 404 namespace not found:" \
            "$bad"
    done
}

# delete_during_writes NSID TAG BULK KIND...: deletes the namespace while the writers of the
# KINDs and three bulk writes of BULK new keys each (w<TAG>bulk<j>-<i>) run; sets DEL_SECS.
# Leaves the acknowledged keys in $H/acked, the refused ones in $H/refused.
delete_during_writes() {
    local ns=$1 tag=$2 bulk=$3 t0 out writes0 j late=""
    shift 3
    start_writers "$ns" "$tag" "$@"
    for j in 1 2 3; do
        jq -nc --arg p "w${tag}bulk$j-" --argjson n "$bulk" \
            '[range($n) | {key: "\($p)\(.)", value: "late"}]' >"$H/late$j.json"
    done
    sleep 0.3 # some writes are acknowledged before the deletion
    # Three bulk writes at once: while one commits, the others wait in the coordinator's queue.
    writes0=$(coord_writes)
    touch "$H/go"
    for j in 1 2 3; do
        curl -s --max-time 60 -X PUT -H 'Content-Type: application/json' \
            --data-binary @"$H/late$j.json" -o "$H/late$j.out" -w '%{http_code}' \
            "$C$API/$ns/bulk" >"$H/late$j.code" &
        BG="$BG $!"
    done
    # The DELETE follows as soon as one is admitted: the others are queued or committing
    # while the deletion lists the keys.
    for _ in $(seq 1 300); do
        [ "$(coord_writes)" -lt $((writes0 + bulk)) ] || break
        sleep 0.01
    done
    t0=$(date +%s.%N)
    out=$(curl -s --max-time 120 -X DELETE -w '\n%{http_code}' "$C$API/$ns") || out=$'\n000'
    DEL_SECS=$(echo "$(date +%s.%N) - $t0" | bc)
    sleep 0.3 # writes after the deletion
    stop_writers
    [ "${out##*$'\n'}" = 200 ] ||
        fail "DELETE $ns: ${out##*$'\n'} $(head -c 200 <<<"${out%$'\n'*}")"
    for j in 1 2 3; do
        late="$late $(cat "$H/late$j.code")"
        case $(cat "$H/late$j.code") in
        200) jq -e --argjson n "$bulk" '.result.successful_key_count == $n' "$H/late$j.out" \
            >/dev/null || fail "bulk write during the deletion: $(head -c 200 "$H/late$j.out")" ;;
        404) jq -e '.errors[0].code == 10013' "$H/late$j.out" >/dev/null ||
            fail "bulk write during the deletion: $(head -c 200 "$H/late$j.out")" ;;
        *) fail "bulk write during the deletion: $(cat "$H/late$j.code")" \
            "$(head -c 200 "$H/late$j.out")" ;;
        esac
    done
    check_refusals "delete $ns"
    cat "$H"/w-*.out | awk '$1 == 200 { print $2 }' >"$H/acked"
    cat "$H"/w-*.out | awk '$1 != 200 { print $2 }' >"$H/refused"
    [ -s "$H/acked" ] && [ -s "$H/refused" ] ||
        fail "delete $ns: $(wc -l <"$H/acked") writes acknowledged and $(wc -l <"$H/refused")" \
            "refused: the writers did not straddle the deletion"
    echo "   $ns: DELETE took ${DEL_SECS}s; $(wc -l <"$H/acked") writes acknowledged," \
        "$(wc -l <"$H/refused") refused, bulk writes$late"
}

# ---- world ---------------------------------------------------------------------------------

"$EKV" up "$H/topo.yaml" >"$H/up.out" 2>&1 || fail "up: $(cat "$H/up.out")"
refresh_status
[ "$CPID" -gt 0 ] || fail "status --json: $(cat "$H/status.json")"

# Keys that no deletion of another namespace may touch.
OTHER=$(ns_create other)
NOTHER=400
fill "$OTHER" o- 1 $NOTHER
NDEF=5
fill "$DEF" d- 1 $NDEF
[ "$(coord_entries)" = $((NOTHER + NDEF)) ] || fail "digest before any deletion"
pass "world up: $NDEF keys in the default namespace, $NOTHER in 'other'"

# ---- orphans --------------------------------------------------------------------------------

# A small namespace fits one listing page (1000 keys) with all its writes; whether a write is
# queued at the moment the DELETE arrives is down to timing, so that case runs three times.
for size in 20000 200 200 200; do
    NS=$(ns_create "orphans-$size")
    fill "$NS" f- 1 $size
    bulk=$([ "$size" -gt 1000 ] && echo 10000 || echo 100)
    delete_during_writes "$NS" "$size" "$bulk" rest pop restp popp
    expect_ns_missing "$NS" "after its DELETE"
    rest PUT "/$NS/values/after" <(echo x)
    [ "$CODE" = 404 ] || fail "write after the DELETE of $NS: $CODE $BODY"
    [ "$(coord_entries)" = $((NOTHER + NDEF)) ] ||
        fail "deleting $NS ($size keys) left $(($(coord_entries) - NOTHER - NDEF)) entries"
    caught_up "after deleting $NS"
    same_digest "after deleting $NS"
    {
        cat "$H/acked" "$H/refused"
        for j in 1 2 3; do
            seq $j 37 $((bulk - 1)) | sed "s/^/w${size}bulk$j-/"
        done
        seq 1 97 $size | sed 's/^/f-/'
    } >"$H/keys"
    expect_codes "PoP reads after deleting $NS" "$NS" "$H/keys" 404
    pass "orphans: namespace of $size keys deleted under writes: 404, nothing left (digest, PoPs)"
done

# The reply of a DELETE comes when every key is gone: a client that gives up before does not
# stop the deletion or hurt the coordinator.
NS=$(ns_create impatient)
fill "$NS" f- 1 20000
# 50 ms is shorter than deleting 20,000 keys on any machine seen so far; a quicker answer
# would only mean the client did not give up, and is checked like the rest.
code=$(curl -s --max-time 0.05 -o /dev/null -w '%{http_code}' -X DELETE "$C$API/$NS") || true
[ "$code" = 000 ] || [ "$code" = 200 ] || fail "impatient DELETE: answered $code"
wait_entries $((NOTHER + NDEF)) 60 0.5 ||
    fail "impatient DELETE: $((N - NOTHER - NDEF)) entries left"
expect_ns_missing "$NS" "after an impatient DELETE"
kill -0 "$CPID" || fail "the coordinator died after a client gave up on a DELETE"
pass "orphans: a DELETE whose client gave up after 50 ms ($code) still deletes every key"

# ---- default namespace ----------------------------------------------------------------------

fill "$DEF" f- 1 20000
delete_during_writes "$DEF" def 10000 rest pop
# Acknowledged writes after a writer's first refusal came after the deletion: they stay.
: >"$H/kept"
: >"$H/gone"
for w in rest pop; do
    grep -q '^404 ' "$H/w-$w.out" || fail "default: the $w writer was never refused"
    awk -v kept="$H/kept" -v gone="$H/gone" '$1 != 200 { refused = 1 }
        $1 == 200 { print $2 >> (refused ? kept : gone) }' "$H/w-$w.out"
done
rest GET "/$DEF"
[ "$CODE" = 200 ] || fail "the default namespace right after its DELETE: $CODE $BODY"
rest PUT "/$DEF/values/after-delete" <(printf y)
[ "$CODE" = 200 ] || fail "write to the default namespace after its DELETE: $CODE $BODY"
echo after-delete >>"$H/kept"
NKEPT=$(wc -l <"$H/kept")

# check_default WHAT: the default namespace holds exactly the keys in $H/kept.
check_default() {
    [ "$(coord_entries)" = $((NOTHER + NKEPT)) ] ||
        fail "$1: digest counts $(coord_entries), want $NOTHER in 'other' + $NKEPT kept"
    local cursor="" listed="$H/listed"
    : >"$listed"
    for _ in $(seq 1 100); do
        rest GET "/$DEF/keys?limit=1000&cursor=$cursor"
        [ "$CODE" = 200 ] || fail "$1: list the default namespace: $CODE $BODY"
        jq -r '.result[].name' <<<"$BODY" >>"$listed"
        cursor=$(jq -r '.result_info.cursor // ""' <<<"$BODY")
        [ -n "$cursor" ] || break
    done
    [ "$(sort "$listed")" = "$(sort "$H/kept")" ] ||
        fail "$1: the default namespace lists $(wc -l <"$listed") keys, want the $NKEPT written" \
            "after its deletion:" \
            "$(diff <(sort "$H/kept") <(sort "$listed") | head -4 | tr '\n' ' ')"
    caught_up "$1"
    same_digest "$1"
    { cat "$H/gone"; seq 1 97 20000 | sed 's/^/f-/'; seq 1 $NDEF | sed 's/^/d-/'
      for j in 1 2 3; do seq $j 37 9999 | sed "s/^/wdefbulk$j-/"; done; } >"$H/keys"
    expect_codes "$1: old keys" "$DEF" "$H/keys" 404
    expect_codes "$1: keys written after the deletion" "$DEF" "$H/kept" 200
}
check_default "after deleting the default namespace"
pass "default: deleted under writes, exists again at once with only the $NKEPT later writes"

"$EKV" fault kill-coordinator >/dev/null || fail "kill-coordinator"
wait_exited "$CPID"
"$EKV" fault restart-coordinator >"$H/restart.out" 2>&1 ||
    fail "restart-coordinator: $(cat "$H/restart.out")"
refresh_status
check_default "after a restart"
pass "default: after kill -9 and restart it still holds only the $NKEPT later writes"

# ---- heartbeats -----------------------------------------------------------------------------

HUGE=$(ns_create huge)
fill "$HUGE" h- 1 100000
curl -s --max-time 120 -X DELETE -o "$H/del.out" -w '%{http_code}' "$C$API/$HUGE" >"$H/del.code" &
DEL_PID=$!
BG="$BG $DEL_PID"
t0=$(date +%s.%N)
polls=0
problem=""
# b never read the 'other' keys: each read is an origin read through the coordinator.
for i in $(seq 1 $NOTHER); do
    gone "$DEL_PID" && break
    polls=$((polls + 1))
    up=$(curl -s --max-time 2 "$A/_edgekv/health" | grep -o '"coordinator_up":[a-z]*') ||
        up=none
    code=$(curl -s --max-time 2 -H "$NSH: $OTHER" -o "$H/o.out" -w '%{http_code}' \
        "$B/o-$i?urlencoded=true") || code=000
    hc=$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$C/health") || hc=000
    if [ "${up#*:}" != true ] || [ "$code" != 200 ] || [ "$(cat "$H/o.out")" != "v-o-$i" ] ||
        [ "$hc" != 200 ]; then
        at=$(echo "$(date +%s.%N) - $t0" | bc)
        msg="coordinator_up ${up#*:}, b read o-$i $code, coordinator /health $hc"
        problem=${problem:-"poll $polls (${at}s): $msg"}
    fi
    sleep 0.1
done
reap_or_kill 1200 "$DEL_PID"
BG=""
DEL_SECS=$(echo "$(date +%s.%N) - $t0" | bc)
[ "$(cat "$H/del.code")" = 200 ] ||
    fail "DELETE huge: $(cat "$H/del.code") $(head -c 200 "$H/del.out")"
echo "   deleting 100,000 keys took ${DEL_SECS}s, $polls polls"
[ -z "$problem" ] || fail "heartbeats: $problem (deletion of 100,000 keys, ${DEL_SECS}s)"
[ "$polls" -ge 3 ] || fail "heartbeats: the deletion took ${DEL_SECS}s, too short to poll"
expect_ns_missing "$HUGE" "after its DELETE"
[ "$(coord_entries)" = $((NOTHER + NKEPT)) ] || fail "deleting 'huge' left entries"
pass "heartbeats: coordinator up and origin reads served throughout a ${DEL_SECS}s deletion"

# ---- resume ---------------------------------------------------------------------------------

DOOMED=$(ns_create doomed)
fill "$DOOMED" x- 1 100000
seq0=$(coord_seq)
curl -s --max-time 120 -X DELETE -o "$H/del.out" -w '%{http_code}' "$C$API/$DOOMED" \
    >"$H/del.code" 2>/dev/null &
DEL_PID=$!
BG="$BG $DEL_PID"
# Killed once some pages are deleted (or after 1.5 s if /health does not answer meanwhile).
t0=$SECONDS
for _ in $(seq 1 100); do
    s=$(curl -sf --max-time 0.3 "$C/health" | jq -r .seq) || s=0
    [ "$s" -ge $((seq0 + 5000)) ] && break
    [ $((SECONDS - t0)) -lt 2 ] || break
    sleep 0.05
done
kill -9 "$CPID"
wait_exited "$CPID"
reap_or_kill 100 "$DEL_PID"
BG=""
[ "$(cat "$H/del.code")" != 200 ] || fail "resume: the deletion ended before the kill"
"$EKV" fault restart-coordinator >"$H/restart.out" 2>&1 ||
    fail "restart-coordinator: $(cat "$H/restart.out")"
refresh_status
expect_ns_missing "$DOOMED" "right after the restart"
rest PUT "/$DOOMED/values/x-1" <(printf y)
[ "$CODE" = 404 ] || fail "write to $DOOMED after the restart: $CODE $BODY"
wait_entries $((NOTHER + NKEPT)) 30 1 ||
    fail "resume: $((N - NOTHER - NKEPT)) entries of $DOOMED left 30 s after the restart"
expect_ns_missing "$DOOMED" "after the resumed deletion"
grep -q "namespace $DOOMED was being deleted" "$H/logs/coordinator.log" ||
    fail "resume: the coordinator did not log the resumed deletion"
caught_up "after the resumed deletion"
same_digest "after the resumed deletion"
seq 1 997 100000 | sed 's/^/x-/' >"$H/keys"
expect_codes "PoP reads after the resumed deletion" "$DOOMED" "$H/keys" 404
pass "resume: a deletion cut by kill -9 is finished after the restart; nothing of $DOOMED left"

expect_down "$H/status.json"
# (In a sanitizer build) no report of any kind.
if grep -l 'runtime error\|AddressSanitizer\|LeakSanitizer' "$H"/logs/*.log >/dev/null; then
    fail "sanitizer report: $(grep -h -A3 'runtime error\|Sanitizer' "$H"/logs/*.log | head -20)"
fi

echo "$PASSED passed, 0 failed"
