#!/usr/bin/env bash
# Bad input never takes a PoP down (KV-SPEC.md surface B). A coordinator starts on a store
# seeded by badinput_node_seed with records no client can write today (keys that are not
# UTF-8, a value that is not text, metadata whose text holds raw CR, LF, TAB and DEL); two
# PoPs serve it, t (policy ttl) and p (push-all, which loads every record by snapshot). Each
# bad request, sent with curl as any client could, must get the spec's status, JSON replies
# must be valid JSON, and no reply may carry a control byte in its status line or a header
# (no header injection through echoed query text). Covered:
#   - list with a prefix that is not UTF-8 (400), list of the stored odd keys (U+FFFD names,
#     metadata strings), put of a key that is not UTF-8 (400);
#   - CF-KV-Metadata of stored metadata with raw control characters: present, parsing back to
#     the stored value;
#   - bulk get as text of a value that is not text, with metadata, and cacheTtl given as a
#     huge string, a huge integer, a real, 1e300 and a boolean; one 2 MiB value asked 100
#     times is a 413 without the PoP holding 100 copies;
#   - cache_ttl with CR LF in it, huge and overflowing; namespace ids with a space, a control
#     byte or 100 bytes; /_edgekv/fault with delay_ms inf, nan, 1e300, loss nan;
#   - /_edgekv/entries of p (odd keys in its cache) is valid JSON;
#   - both PoPs still serve a normal put and get afterwards, and p killed and started again
#     over the same store lists the odd keys and serves them again.
# Every process is started here and stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
SEED=$3

H=$EDGEKV_HOME
mkdir -p "$H/logs"


"$SEED" "$H/coord-db" >/dev/null || fail "badinput_node_seed"
"$BIN/edgekv-coordinator" --data "$H/coord-db" --http 127.0.0.1:0 --pub 'tcp://127.0.0.1:*' \
    --router 'tcp://127.0.0.1:*' --ready-file "$H/coord.json" --write-rate-limit 0 \
    >"$H/logs/coordinator.log" 2>&1 &
COORD_PID=$!
PIDS="$PIDS $COORD_PID"
wait_ready coordinator "$COORD_PID" "$H/coord.json"
PUB=$(jq -r .pub "$H/coord.json")
ROUTER=$(jq -r .router "$H/coord.json")

start_pop() { # NAME POLICY: sets POP_PID and URL_<NAME>
    rm -f "$H/$1.json"
    "$BIN/edgekv-node" --name "$1" --http 127.0.0.1:0 --pub "$PUB" --router "$ROUTER" \
        --policy "$2" --ready-file "$H/$1.json" >>"$H/logs/$1.log" 2>&1 &
    POP_PID=$!
    PIDS="$PIDS $POP_PID"
    wait_ready "$1" "$POP_PID" "$H/$1.json"
    printf -v "URL_$1" '%s' "$(jq -r .url "$H/$1.json")"
}
start_pop t ttl
T_PID=$POP_PID
start_pop p push-all
P_PID=$POP_PID

# req METHOD URL [curl options...]: sets CODE; body in $H/body, raw headers in $H/hdr.
req() {
    local method=$1 url=$2
    shift 2
    : >"$H/body"
    : >"$H/hdr"
    CODE=$(curl -s --path-as-is -o "$H/body" -D "$H/hdr" -w '%{http_code}' -X "$method" "$@" \
        "$url") || CODE=000
}
body() { head -c 300 "$H/body" | cat -v; }
header() { tr -d '\r' <"$H/hdr" | sed -n "s/^$1: //Ip" | head -1; }

# Every line of the raw reply head: a status line, then name: value lines, each ending in CRLF
# and free of any other control byte; and no header line the PoP never sets.
check_head() { # WHAT
    LC_ALL=C awk -v what="$1" '
        NR == 1 || (ended && /^HTTP\//) { # (a 100 Continue head comes first)
                  ended = 0
                  if ($0 !~ /^HTTP\/1\.1 [0-9][0-9][0-9]( [^\001-\037\177]*)?\r$/) {
                      print what ": bad status line: " $0; bad = 1 } next }
        /^\r$/ { ended = 1; next }
        { if (ended || $0 !~ /^[!-9;-~]+: [^\001-\037\177]*\r$/) {
              print what ": bad header line: " $0; bad = 1 } }
        tolower($0) ~ /^set-cookie:/ { print what ": injected: " $0; bad = 1 }
        END { exit bad }' "$H/hdr" | cat -v >&2 || fail "$1: reply head"
}

# expect STATUS WHAT: the status, a clean head, and (for JSON replies) a valid JSON body.
expect() {
    [ "$CODE" = "$1" ] || fail "$2: status $CODE, expected $1: $(body)"
    check_head "$2"
    if header Content-Type | grep -q '^application/json'; then
        jq -e . "$H/body" >/dev/null || fail "$2: invalid JSON: $(body)"
    fi
}

# The reason phrase (status line after the code), without CR.
reason() { head -1 "$H/hdr" | tr -d '\r' | cut -d' ' -f3-; }

alive() { # WHAT: both PoPs still running and serving a normal write and read
    local u
    gone "$T_PID" && fail "$1: PoP t died: $(tail -5 "$H/logs/t.log")"
    gone "$P_PID" && fail "$1: PoP p died: $(tail -5 "$H/logs/p.log")"
    for u in "$URL_t" "$URL_p"; do
        req PUT "$u/plain?urlencoded=true" --data-binary plain-value
        expect 200 "$1: put at $u"
        req GET "$u/plain?urlencoded=true"
        expect 200 "$1: get at $u"
        [ "$(cat "$H/body")" = plain-value ] || fail "$1: get at $u: $(body)"
    done
}

# ---- lists: a prefix that is not UTF-8, the stored odd keys ------------------------------

for u in "$URL_t" "$URL_p"; do
    req GET "$u/?prefix=%80"
    expect 400 "list prefix %80 at $u"
    [ "$(reason)" = "Could not URL-decode key name" ] || fail "prefix %80: reason '$(reason)'"
    req PUT "$u/%80?urlencoded=true" --data-binary x
    expect 400 "put /%80 at $u"
    req GET "$u/?prefix=%80"
    expect 400 "list prefix %80 after the put at $u"
    req GET "$u/"
    expect 200 "list at $u"
    jq -e '[.keys[].name] == ["binval", "meta-del", "meta-nl", "odd\ufffd", "\ufffdodd"]
           and .list_complete == true' "$H/body" >/dev/null || fail "list at $u: $(body)"
    jq -e '(.keys[] | select(.name == "\ufffdodd") | .metadata | fromjson) == {"m": "x"}
           and (.keys[] | select(.name == "odd\ufffd") | .metadata) == "\"\ufffd\""
           and (.keys[] | select(.name == "meta-nl") | .metadata | fromjson) == {"a": "b"}' \
        "$H/body" >/dev/null || fail "list metadata at $u: $(body)"
    req GET "$u/?prefix=odd&key_count_limit=1"
    expect 200 "list prefix odd at $u"
    jq -e '[.keys[].name] == ["odd\ufffd"] and .list_complete == true' "$H/body" >/dev/null ||
        fail "list prefix odd at $u: $(body)"
done
alive "after the lists"
pass "lists of keys that are not UTF-8 are valid JSON (U+FFFD); a prefix or key that is not UTF-8 is 400"

# ---- the metadata header ---------------------------------------------------------------------

for u in "$URL_t" "$URL_p"; do
    req GET "$u/meta-nl?urlencoded=true"
    expect 200 "get meta-nl at $u"
    [ "$(header CF-KV-Metadata)" = '{"a":"b"}' ] || fail "meta-nl at $u: CF-KV-Metadata '$(header CF-KV-Metadata)'"
    req GET "$u/meta-del?urlencoded=true"
    expect 200 "get meta-del at $u"
    [ "$(header CF-KV-Metadata)" = '{"d":"x\u007fy"}' ] ||
        fail "meta-del at $u: CF-KV-Metadata '$(header CF-KV-Metadata | cat -v)'"
    # Metadata sent as JSON text with an escaped newline comes back as sent.
    req PUT "$u/meta-esc?urlencoded=true" -H 'CF-KV-Metadata: {"a":"x\ny"}' --data-binary v
    expect 200 "put meta-esc at $u"
    req GET "$u/meta-esc?urlencoded=true"
    expect 200 "get meta-esc at $u"
    [ "$(header CF-KV-Metadata)" = '{"a":"x\ny"}' ] || fail "meta-esc at $u: '$(header CF-KV-Metadata)'"
done
pass "CF-KV-Metadata carries stored metadata whose text held CR, LF, TAB or DEL"

# ---- bulk get ---------------------------------------------------------------------------------

bulk() { # URL JSON [curl options...]
    local u=$1 json=$2
    shift 2
    req POST "$u/bulk/get" -H 'Content-Type: application/json' --data-binary "$json" "$@"
}
for u in "$URL_t" "$URL_p"; do
    bulk "$u" '{"keys":["binval","meta-nl","nope"]}'
    expect 200 "bulk get text at $u"
    jq -e '.binval == "\ufffd\ufffd\u0000A" and .["meta-nl"] == "nl-value" and .nope == null' \
        "$H/body" >/dev/null || fail "bulk get text at $u: $(body)"
    bulk "$u" '{"keys":["binval","meta-nl","meta-del"],"withMetadata":true}'
    expect 200 "bulk get with metadata at $u"
    jq -e '.["meta-nl"] == {"value": "nl-value", "metadata": {"a": "b"}}
           and .["meta-del"].metadata == {"d": "x\u007fy"} and .binval.metadata == null' \
        "$H/body" >/dev/null || fail "bulk get with metadata at $u: $(body)"
    for ttl in '"99999999999999999"' 9223372036854775807; do
        bulk "$u" "{\"keys\":[\"meta-nl\"],\"cacheTtl\":$ttl}"
        expect 200 "bulk get cacheTtl $ttl at $u"
        jq -e '.["meta-nl"] == "nl-value"' "$H/body" >/dev/null || fail "cacheTtl $ttl: $(body)"
    done
    for ttl in 60.5 1e300 true '"1e300"' '"99999999999999999999"' '{"a":1}'; do
        bulk "$u" "{\"keys\":[\"meta-nl\"],\"cacheTtl\":$ttl}"
        expect 400 "bulk get cacheTtl $ttl at $u"
        reason | grep -q '^Invalid cache_ttl of ' || fail "cacheTtl $ttl: reason '$(reason)'"
    done
    bulk "$u" '{"keys":["a"],"type":"te\nxt\r\nSet-Cookie: x=y"}'
    expect 400 "bulk get type with CR LF at $u"
done
# The same 2 MiB value 100 times: 413 as the total passes 25 MiB, without ever holding the
# hundred copies (the PoP's peak memory grows by far less than the 400 MiB they would take).
head -c $((2 << 20)) /dev/zero | tr '\0' v >"$H/big"
req PUT "$URL_t/big?urlencoded=true" --data-binary @"$H/big"
expect 200 "put big"
keys=$(printf '"big",%.0s' $(seq 99))
hwm() { awk '/^VmHWM/ {print $2}' "/proc/$1/status"; }
before=$(hwm "$T_PID")
bulk "$URL_t" "{\"keys\":[$keys\"big\"]}"
expect 413 "bulk get of 100 x 2 MiB"
[ "$(reason)" = "Total size of request exceeds the limit of 25MB" ] || fail "413: '$(reason)'"
grown=$((($(hwm "$T_PID") - before) / 1024))
[ "$grown" -lt 150 ] || fail "bulk get of 100 x 2 MiB: the PoP's peak grew by $grown MiB"
alive "after bulk gets"
pass "bulk get: text of a value that is not text, odd metadata, cacheTtl of every type"

# ---- query text in the status line, absurd numbers, namespaces -------------------------------

for u in "$URL_t" "$URL_p"; do
    req GET "$u/k?urlencoded=true&cache_ttl=1%0d%0aSet-Cookie:%20a=b"
    expect 400 "cache_ttl with CR LF at $u"
    req GET "$u/k?urlencoded=true&cache_ttl=%01%7f%80"
    expect 400 "cache_ttl with control bytes at $u"
    req GET "$u/k?urlencoded=true&cache_ttl=99999999999999999999"
    expect 400 "cache_ttl past int64 at $u"
    for ttl in 9223372036854775807 1000000000000; do
        req GET "$u/k?urlencoded=true&cache_ttl=$ttl"
        expect 404 "cache_ttl $ttl at $u"
    done
    req GET "$u/meta-nl?urlencoded=true&cache_ttl=9223372036854775807"
    expect 200 "cache_ttl INT64_MAX on a cached key at $u"
    req GET "$u/k?urlencoded=true" -H 'X-Edgekv-Namespace: a b'
    expect 400 "namespace with a space at $u"
    req GET "$u/k?urlencoded=true" -H $'X-Edgekv-Namespace: a\x01b'
    expect 400 "namespace with a control byte at $u"
    req GET "$u/" -H "X-Edgekv-Namespace: $(printf 'n%.0s' $(seq 100))"
    expect 400 "list in a 100-byte namespace at $u"
    [ "$(reason)" = "Invalid namespace id" ] || fail "100-byte namespace: '$(reason)'"
    bulk "$u" '{"keys":["a"]}' -H "X-Edgekv-Namespace: $(printf 'n%.0s' $(seq 100))"
    expect 400 "bulk get in a 100-byte namespace at $u"
    for q in delay_ms=inf delay_ms=nan delay_ms=-nan delay_ms=1e300 delay_ms=600001 \
        'delay_ms=5x' loss=nan loss=inf 'loss=0.5junk'; do
        req POST "$u/_edgekv/fault?$q"
        expect 400 "fault $q at $u"
    done
    req POST "$u/_edgekv/fault?delay_ms=0&loss=0"
    expect 200 "fault delay_ms=0 at $u"
done
alive "after the query tests"
pass "CR LF and control bytes never reach the status line; absurd cache_ttl, namespace, delay_ms and loss refused"

# ---- p's cache holds the odd keys (snapshot): its entries, and a restart over them ---------

req GET "$URL_p/_edgekv/entries?max=100"
expect 200 "entries at p"
jq -e '[.sample[].key] | index("\ufffdodd") != null' "$H/body" >/dev/null ||
    fail "entries at p: $(body)"
kill "$P_PID"
reap_or_kill 50 "$P_PID"
start_pop p push-all
P_PID=$POP_PID
req GET "$URL_p/"
expect 200 "list at the restarted p"
jq -e '[.keys[].name] | index("\ufffdodd") != null and index("odd\ufffd") != null' "$H/body" \
    >/dev/null || fail "list at the restarted p: $(body)"
req GET "$URL_p/meta-nl?urlencoded=true"
expect 200 "get meta-nl at the restarted p"
[ "$(header CF-KV-Metadata)" = '{"a":"b"}' ] || fail "restarted p: '$(header CF-KV-Metadata)'"
alive "after the restart"
pass "a PoP started again over the odd records lists and serves them"

# Stopped cleanly, and (in a sanitizer build) without a report of any kind.
stop_pids $PIDS
PIDS=""
if grep -l 'runtime error\|AddressSanitizer\|LeakSanitizer' "$H"/logs/*.log >/dev/null; then
    fail "sanitizer report: $(grep -h -A3 'runtime error\|Sanitizer' "$H"/logs/*.log | head -20)"
fi
pass "no sanitizer report in any log"

echo "$PASSED passed, 0 failed"
