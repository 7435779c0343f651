#!/usr/bin/env bash
# The four propagation policies as a user of a PoP sees them. For each of push, push-all,
# invalidate and ttl: a coordinator and two PoPs, w (0 ms) and r (20 ms), time_scale 10, so a
# cacheTtl of 30 s simulated lasts 3 s real. K=v1 is written through w and read (cached) at
# r, then K=v2 is written through w, and r must:
#   push, push-all  serve v2 from its cache (HIT, no origin read) within 500 ms;
#   invalidate      answer the first read after the change arrives with a MISS returning v2;
#   ttl             go on serving v1 (HIT) until its 3 s cacheTtl runs out, then v2.
# Every policy: a write is readable at once at the PoP it went through (read-your-writes),
# at w and at r; a key never read at r is a HIT there after its change arrives only under
# push-all. push-all also: a PoP started after keys were written (down, then up again over
# the same coordinator database) holds them without reading from the origin.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

NS_Q="urlencoded=true"
RQ="urlencoded=true&cache_ttl=30" # reads at r ask for the 30 s minimum: 3 s real

# Milliseconds since the epoch, without a fork: in NOW, or printed by now_ms.
now() {
    local t=${EPOCHREALTIME/./}
    NOW=$((t / 1000))
}
now_ms() {
    now
    echo "$NOW"
}

# Sleeps until the given time (ms since the epoch).
sleep_until() {
    now
    local left=$(($1 - NOW))
    if [ "$left" -gt 0 ]; then sleep "$(printf '%d.%03d' $((left / 1000)) $((left % 1000)))"; fi
}

# Reads the response headers curl saved: sets CACHE and VER.
read_headers() {
    local name value
    CACHE="" VER=""
    while IFS=': ' read -r name value; do
        value=${value%$'\r'}
        case ${name,,} in
        cf-cache-status) CACHE=$value ;;
        x-edgekv-version) VER=$value ;;
        esac
    done <"$EDGEKV_HOME/hdr"
}

# GET: sets CODE, BODY, CACHE (CF-Cache-Status), VER (X-Edgekv-Version), T0 and T1 (ms).
hget() {
    : >"$EDGEKV_HOME/body"
    : >"$EDGEKV_HOME/hdr" # nothing stale survives a failed request
    now
    T0=$NOW
    CODE=$(curl -s -o "$EDGEKV_HOME/body" -D "$EDGEKV_HOME/hdr" -w '%{http_code}' "$1") || CODE=000
    now
    T1=$NOW
    BODY=""
    IFS= read -r -d '' BODY <"$EDGEKV_HOME/body" || true
    read_headers
}

# PUT value $2 to URL $1: sets CODE and VER (the committed version).
hput() {
    : >"$EDGEKV_HOME/hdr"
    CODE=$(curl -s -o /dev/null -D "$EDGEKV_HOME/hdr" -w '%{http_code}' -X PUT \
        --data-binary "$2" "$1") || CODE=000
    read_headers
}

stat_of() { curl -sf "$1/stats" | jq -r ".$2"; }

# Blocks until change $2 is visible at PoP URL $1 (so the test knows it has arrived).
wait_seq() {
    local code
    code=$(curl -s -o /dev/null -w '%{http_code}' "$1/_edgekv/wait?seq=$2&timeout_ms=3000")
    [ "$code" = "200" ] || fail "change $2 never became visible at $1 ($code)"
}

write_topology() { # POLICY FILE
    ekv_topology "$2" policy="$1" time_scale=10 min_cache_ttl=30 w:0 r:20:Madrid
}

start() { # TOPOLOGY
    "$EKV" up "$1" >"$EDGEKV_HOME/up.out" 2>&1 || fail "edgekv up $1: $(cat "$EDGEKV_HOME/up.out")"
    "$EKV" status --json >"$EDGEKV_HOME/status.json"
    W=$(jq -r '.pops[] | select(.name == "w") | .url' "$EDGEKV_HOME/status.json")
    R=$(jq -r '.pops[] | select(.name == "r") | .url' "$EDGEKV_HOME/status.json")
    C=$(jq -r '.coordinator.url' "$EDGEKV_HOME/status.json")
    [ -n "$W" ] && [ -n "$R" ] && [ "$W" != null ] && [ "$R" != null ] ||
        fail "status --json: $(cat "$EDGEKV_HOME/status.json")"
}

stop() {
    local pids
    pids=$(jq -r '.coordinator.pid, .pops[].pid' "$EDGEKV_HOME/status.json")
    "$EKV" down >/dev/null || fail "edgekv down"
    for pid in $pids; do
        gone "$pid" || fail "process $pid still running after down"
    done
}

# After v2 was written at $T_V2: r must serve it from its cache as soon as it arrives.
check_pushed() { # POLICY KEY V1 V2 ORIGIN_BEFORE
    local p=$1 k=$2 v1=$3 v2=$4 origin0=$5 deadline=$((T_V2 + 500)) polls=0
    while :; do
        polls=$((polls + 1))
        hget "$R/$k?$RQ"
        [ "$BODY" = v2 ] && break
        [ "$BODY" = v1 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v1" ] ||
            fail "$p: r served '$BODY' ($CODE, $CACHE, version $VER) while waiting for v2"
        [ "$(now_ms)" -lt "$deadline" ] || fail "$p: r still serves v1 500 ms after the write"
        sleep 0.01
    done
    [ "$CODE" = 200 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v2" ] ||
        fail "$p: r served v2 as $CODE $CACHE version $VER (want 200 HIT $v2)"
    local origin
    origin=$(stat_of "$R" origin_reads)
    [ "$origin" = "$origin0" ] || fail "$p: r read from origin ($origin0 -> $origin reads)"
    pass "$p: r serves v2 as a HIT $((T1 - T_V2)) ms after the put returned" \
        "(read $polls), no origin read"
}

check_invalidated() { # KEY V2 ORIGIN_BEFORE
    local k=$1 v2=$2 origin0=$3
    wait_seq "$R" "$v2"
    hget "$R/$k?$RQ"
    [ "$CODE" = 200 ] && [ "$BODY" = v2 ] && [ "$CACHE" = MISS ] && [ "$VER" = "$v2" ] ||
        fail "invalidate: first read after the change: $CODE '$BODY' $CACHE version $VER" \
            "(want 200 'v2' MISS $v2)"
    hget "$R/$k?$RQ"
    [ "$BODY" = v2 ] && [ "$CACHE" = HIT ] || fail "invalidate: second read: '$BODY' $CACHE"
    local origin
    origin=$(stat_of "$R" origin_reads)
    [ "$origin" = $((origin0 + 1)) ] ||
        fail "invalidate: origin reads $origin0 -> $origin (want one more)"
    pass "invalidate: r's next read after the change is a MISS returning v2, then a HIT"
}

# v1 was cached at r by a read between CACHED_START and CACHED_END (ms): it must be served
# until that copy's 3 s cacheTtl runs out, although v2 has already arrived.
check_ttl() { # KEY V1 V2 CACHED_START CACHED_END
    local k=$1 v1=$2 v2=$3 cs=$4 ce=$5 last_v1=0
    wait_seq "$R" "$v2"
    while :; do
        hget "$R/$k?$RQ"
        [ "$BODY" = v2 ] && break
        [ "$BODY" = v1 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v1" ] ||
            fail "ttl: r served '$BODY' ($CODE, $CACHE, version $VER) before v2"
        # A HIT must have started before the copy's freshness ended.
        [ "$T0" -lt $((ce + 3000)) ] || fail "ttl: v1 still a HIT $((T0 - cs)) ms after caching"
        last_v1=$T0
        [ "$T0" -lt $((ce + 4000)) ] || fail "ttl: no v2 4 s after caching v1"
        sleep 0.05
    done
    [ "$CODE" = 200 ] && [ "$VER" = "$v2" ] || fail "ttl: v2 read: $CODE version $VER"
    [ "$CACHE" = EXPIRED ] || [ "$CACHE" = MISS ] || fail "ttl: v2 served as '$CACHE'"
    [ "$T1" -ge $((cs + 3000)) ] || fail "ttl: v2 served only $((T1 - cs)) ms after caching v1"
    [ "$last_v1" -ge $((cs + 2700)) ] ||
        fail "ttl: v1 served only until $((last_v1 - cs)) ms after caching (want ~3000)"
    [ "$T0" -le $((ce + 3400)) ] || fail "ttl: v2 first served $((T0 - ce)) ms after caching v1"
    pass "ttl: r serves v1 (HIT) for $((last_v1 - cs)) ms after caching it, then v2 ($CACHE)"
}

run_policy() { # POLICY
    local p=$1 k="$1-key" fresh="$1-fresh"
    write_topology "$p" "$EDGEKV_HOME/$p.yaml"
    start "$EDGEKV_HOME/$p.yaml"

    # K=v1 through w, readable at w at once.
    local t_v1
    t_v1=$(now_ms)
    hput "$W/$k?$NS_Q" v1
    [ "$CODE" = 200 ] && [ -n "$VER" ] || fail "$p: put v1 through w: $CODE"
    local v1=$VER
    hget "$W/$k?$NS_Q"
    [ "$CODE" = 200 ] && [ "$BODY" = v1 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v1" ] ||
        fail "$p: read-your-writes at w: $CODE '$BODY' $CACHE version $VER (want v1 HIT $v1)"
    pass "$p: a write through w is readable at w at once"

    # Read K at r until it returns v1: r caches it (push-all holds it already).
    wait_seq "$R" "$v1"
    local cs=0 ce=0
    for _ in $(seq 1 100); do
        hget "$R/$k?$RQ"
        if [ "$BODY" = v1 ]; then
            cs=$T0 ce=$T1
            break
        fi
        sleep 0.01
    done
    [ "$BODY" = v1 ] && [ "$VER" = "$v1" ] || fail "$p: r never served v1 ('$BODY')"
    if [ "$p" = push-all ]; then
        [ "$CACHE" = HIT ] || fail "push-all: r's first read of a replicated key was $CACHE"
    fi
    hget "$R/$k?$RQ"
    [ "$BODY" = v1 ] && [ "$CACHE" = HIT ] || fail "$p: r's second read: '$BODY' $CACHE"
    local origin0
    origin0=$(stat_of "$R" origin_reads)
    pass "$p: r serves v1 and caches it"

    # K=v2 through w, once the 1 write/s per key limit allows it.
    sleep_until $((t_v1 + 1100))
    local t_v2
    t_v2=$(now_ms)
    hput "$W/$k?$NS_Q" v2
    [ "$CODE" = 200 ] || fail "$p: put v2 through w: $CODE"
    T_V2=$(now_ms)
    local v2=$VER
    [ "$v2" -gt "$v1" ] || fail "$p: v2 has version $v2, v1 had $v1"
    hget "$W/$k?$NS_Q"
    [ "$BODY" = v2 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v2" ] ||
        fail "$p: read-your-writes at w after v2: '$BODY' $CACHE version $VER"

    case $p in
    push | push-all) check_pushed "$p" "$k" "$v1" "$v2" "$origin0" ;;
    invalidate) check_invalidated "$k" "$v2" "$origin0" ;;
    ttl) check_ttl "$k" "$v1" "$v2" "$cs" "$ce" ;;
    esac

    # A key never read at r: replicated there only under push-all.
    hput "$W/$fresh?$NS_Q" n1
    [ "$CODE" = 200 ] || fail "$p: put $fresh: $CODE"
    local vn=$VER
    wait_seq "$R" "$vn"
    origin0=$(stat_of "$R" origin_reads)
    hget "$R/$fresh?$RQ"
    [ "$CODE" = 200 ] && [ "$BODY" = n1 ] && [ "$VER" = "$vn" ] ||
        fail "$p: never-read key at r: $CODE '$BODY' version $VER"
    local origin
    origin=$(stat_of "$R" origin_reads)
    if [ "$p" = push-all ]; then
        [ "$CACHE" = HIT ] && [ "$origin" = "$origin0" ] ||
            fail "push-all: never-read key at r: $CACHE, origin reads $origin0 -> $origin"
        pass "push-all: a key never read at r is a HIT there once its write arrives"
    else
        [ "$CACHE" = MISS ] && [ "$origin" = $((origin0 + 1)) ] ||
            fail "$p: never-read key at r: $CACHE, origin reads $origin0 -> $origin (want MISS)"
        pass "$p: a key never read at r is fetched from origin (MISS)"
    fi

    # Read-your-writes at r (20 ms away) while r holds an older copy of the key.
    sleep_until $((t_v2 + 1100))
    hput "$R/$k?$NS_Q" v3
    [ "$CODE" = 200 ] || fail "$p: put v3 through r: $CODE"
    local v3=$VER
    hget "$R/$k?$RQ"
    [ "$CODE" = 200 ] && [ "$BODY" = v3 ] && [ "$CACHE" = HIT ] && [ "$VER" = "$v3" ] ||
        fail "$p: read-your-writes at r: $CODE '$BODY' $CACHE version $VER (want v3 HIT $v3)"
    pass "$p: a write through r is readable at r at once, over its cached v2"

    if [ "$p" = push-all ]; then
        check_snapshot "$p"
    fi
    stop
}

# push-all: 20 keys written, the topology stopped and started again over the same coordinator
# database: the new r holds every key without an origin read.
check_snapshot() { # POLICY
    local p=$1 i
    for i in $(seq 0 19); do
        hput "$W/snap-$i?$NS_Q" "snap-value-$i"
        [ "$CODE" = 200 ] || fail "$p: put snap-$i: $CODE"
    done
    local seq
    seq=$(curl -sf "$C/health" | jq -r .seq)
    [ "$seq" -ge 20 ] || fail "$p: coordinator seq $seq after 20 writes"
    stop
    start "$EDGEKV_HOME/$p.yaml"
    local applied=0 deadline=$(($(now_ms) + 5000))
    while [ "$(now_ms)" -lt "$deadline" ]; do
        applied=$(curl -sf "$R/_edgekv/health" | jq -r .applied_seq) || applied=0
        [ "$applied" -ge "$seq" ] && break
        sleep 0.05
    done
    [ "$applied" -ge "$seq" ] || fail "$p: restarted r reached seq $applied, not $seq"
    for i in 0 7 19; do
        hget "$R/snap-$i?$RQ"
        [ "$CODE" = 200 ] && [ "$BODY" = "snap-value-$i" ] && [ "$CACHE" = HIT ] ||
            fail "$p: restarted r serves snap-$i as $CODE '$BODY' $CACHE (want HIT)"
    done
    hget "$R/$p-key?$RQ"
    [ "$BODY" = v3 ] && [ "$CACHE" = HIT ] || fail "$p: restarted r serves $p-key as '$BODY' $CACHE"
    local origin
    origin=$(stat_of "$R" origin_reads)
    [ "$origin" = 0 ] || fail "$p: restarted r made $origin origin reads"
    pass "push-all: a PoP started after 20 writes serves them as HITs without origin reads"
}

for policy in push push-all invalidate ttl; do
    run_policy "$policy"
done

echo "$PASSED passed, 0 failed"
