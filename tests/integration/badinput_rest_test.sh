#!/usr/bin/env bash
# Bad input never takes a process down (REST half): a world of a coordinator and three PoPs
# (three-pops.yaml) gets query values, keys, multipart metadata fields and stored bytes that
# are not UTF-8, echoes cut inside a character, control characters, and metadata[a][a]...
# nested without bound. Each time the coordinator answers with KV-SPEC's status and a body that
# is valid UTF-8 JSON, and then still serves. Keys that are not UTF-8 are refused on both
# surfaces; such keys stored by an older build (badinput_rest_seed) still appear in key lists.
# metadata[x] fields without a value part leak nothing: the coordinator's memory stays flat
# (and, in a sanitizer build, LeakSanitizer reports nothing when it exits).
# Usage: badinput_rest_test.sh BIN_DIR SRC_DIR BADINPUT_REST_SEED
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"
SEED=$3
H=$EDGEKV_HOME
DEF=00000000000000000000000000000000
NS="/client/v4/accounts/x/storage/kv/namespaces/$DEF"
FFFD=$'\xef\xbf\xbd'

# Keys an older build could have stored, in place before the coordinator starts.
"$SEED" "$H/coordinator-db" "$DEF" || fail "seeding keys that are not UTF-8"
"$EKV" up "$SRC/tests/integration/three-pops.yaml" >/dev/null || fail "edgekv up"
"$EKV" status --json >"$H/status.json"
URL=$(jq -r .coordinator.url "$H/status.json")
POP=$(jq -r '.pops[0].url' "$H/status.json")
CPID=$(jq -r .coordinator.pid "$H/status.json")
pass "world up"

# req METHOD URL [curl options...]: sets CODE; the body is in $H/body, headers in $H/hdr.
req() {
    local method=$1 url=$2
    shift 2
    CODE=$(curl -s --path-as-is -o "$H/body" -D "$H/hdr" -w '%{http_code}' -X "$method" "$@" \
        "$url") || CODE=000
}
body() { head -c 300 "$H/body" | od -c | head -8; }

# The body is JSON in valid UTF-8 (jq would quietly repair bad bytes, so python decodes it).
valid_json() {
    python3 -c 'import json, sys; json.loads(open(sys.argv[1], "rb").read().decode("utf-8"))' \
        "$H/body" 2>/dev/null
}

# alive WHAT: the coordinator still serves.
alive() {
    curl -sf "$URL/health" | jq -e '.ok == true' >/dev/null || fail "$1: coordinator down"
}

# expect_err WHAT STATUS CODE [MESSAGE]: a failure envelope in valid JSON; still serving.
expect_err() {
    [ "$CODE" = "$2" ] || fail "$1: status $CODE, expected $2: $(body)"
    valid_json || fail "$1: body is not valid UTF-8 JSON: $(body)"
    jq -e --argjson c "$3" '.success == false and .errors[0].code == $c and .result == null' \
        "$H/body" >/dev/null || fail "$1: envelope or code, expected $3: $(body)"
    if [ $# -ge 4 ]; then
        jq -e --arg m "$4" '.errors[0].message == $m' "$H/body" >/dev/null ||
            fail "$1: message, expected '$4': $(body)"
    fi
    alive "$1"
}

expect_ok() {
    [ "$CODE" = 200 ] || fail "$1: status $CODE: $(body)"
    valid_json || fail "$1: body is not valid UTF-8 JSON: $(body)"
    jq -e ".success == true and (${2:-true})" "$H/body" >/dev/null || fail "$1: $(body)"
    alive "$1"
}

# ---- %FF in every query value that a reply may echo ---------------------------------------

req GET "$URL$NS/keys?limit=%FF"
expect_err "limit=%FF" 400 10028 \
    "Invalid key_count_limit of $FFFD. Please specify an integer greater than 9."
req PUT "$URL$NS/values/k?expiration_ttl=%FF" --data-binary v
expect_err "expiration_ttl=%FF" 400 10034 \
    "Invalid expiration_ttl of $FFFD. Please specify integer greater than 0."
req PUT "$URL$NS/values/k?expiration=%FF" --data-binary v
expect_err "expiration=%FF" 400 10033 "Invalid expiration of $FFFD. Please specify integer \
greater than the current number of seconds since the UNIX epoch."
req GET "$URL$NS/keys?cursor=%FF"
expect_err "cursor=%FF" 400 10041 "Invalid cursor"
req GET "$URL$NS/keys?prefix=old&cursor=MTpvbGT__g" # after "old" ff fe, the last "old" key
expect_ok "a cursor after a key that is not UTF-8" '.result == [] and .result_info.cursor == ""'
req GET "$URL$NS/keys?prefix=%FF"
expect_ok "prefix=%FF" '.result == [] and .result_info.count == 0'
req GET "$URL$NS/keys?limit=%0D%0AX-Injected:%20yes"
expect_err "limit with CR LF" 400 10028 \
    "Invalid key_count_limit of $FFFD${FFFD}X-Injected: yes. Please specify an integer greater than 9."
pass "%FF in limit, expiration_ttl, expiration, cursor, prefix"

# ---- 200-byte values with multibyte characters where the echo is cut ----------------------

# enc TEXT: percent-encodes every byte.
enc() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n' | sed 's/../%&/g'; }
x126=$(printf 'x%.0s' $(seq 126))
e37=$(printf '\xc3\xa9%.0s' $(seq 37))
req PUT "$URL$NS/values/k?expiration_ttl=$(enc "$x126$e37")" --data-binary v
expect_err "expiration_ttl cut inside a character" 400 10034 \
    "Invalid expiration_ttl of $x126. Please specify integer greater than 0."
req PUT "$URL$NS/values/k?expiration_ttl=$(enc "${x126:1}$e37")" --data-binary v
expect_err "expiration_ttl cut after a character" 400 10034 \
    "Invalid expiration_ttl of ${x126:1}$(printf '\xc3\xa9'). Please specify integer greater than 0."
for s in 0 1 2 3; do
    v=$(printf 'y%.0s' $(seq 0 $s) | head -c $s)$(printf '\xe2\x9c\x93\xf0\x9f\x98\x80%.0s' $(seq 29))
    req PUT "$URL$NS/values/k?expiration=$(enc "$v")" --data-binary v
    expect_err "expiration of 3- and 4-byte characters, shift $s" 400 10033
    req GET "$URL$NS/keys?limit=$(enc "$v")"
    expect_err "limit of 3- and 4-byte characters, shift $s" 400 10028
done
# A bulk item's expiration text is cut at 63 bytes before it is checked.
x62=$(printf '7%.0s' $(seq 62))
c40=$(printf '\xe2\x9c\x93%.0s' $(seq 40))
for f in expiration_ttl expiration; do
    jq -cn --arg t "$x62$c40" --arg f $f '[{key: "k", value: "v", ($f): $t}]' >"$H/bulk.json"
    req PUT "$URL$NS/bulk" -H 'Content-Type: application/json' --data-binary @"$H/bulk.json"
    expect_err "bulk $f cut inside a character" 400 $([ $f = expiration ] && echo 10033 || echo 10034)
done
req POST "$URL$NS/bulk/get" --data-binary "$(jq -cn --arg t "$x126$e37" '{keys: ["k"], type: $t}')"
expect_err "bulk get type cut inside a character" 400 10029 \
    "\"$(printf 'x%.0s' $(seq 126))\" is not a valid type. Use \"json\" or \"text\""
pass "200-byte multibyte values cut on a character boundary"

# ---- keys that are not UTF-8 --------------------------------------------------------------

for k in '%FF' 'ok%FF' '%C0%AF' '%ED%A0%80' '%E2%9C'; do
    req PUT "$URL$NS/values/$k" --data-binary v
    expect_err "REST PUT of key $k" 400 10029 "Could not URL-decode key name"
    req GET "$URL$NS/values/$k"
    expect_err "REST GET of key $k" 400 10029 "Could not URL-decode key name"
    CODE=$(curl -s -o "$H/body" -D "$H/hdr" -w '%{http_code}' -X PUT --data-binary v \
        "$POP/$k?urlencoded=true") || CODE=000
    [ "$CODE" = 400 ] || fail "PoP PUT of key $k: status $CODE"
    tr -d '\r' <"$H/hdr" | head -1 | grep -q '^HTTP/1.1 400 Could not URL-decode key name$' ||
        fail "PoP PUT of key $k: $(head -1 "$H/hdr")"
done
req PUT "$URL$NS/values/$(enc "$c40")" --data-binary v
expect_ok "a UTF-8 key is still taken"
curl -sf "$POP/metrics" >/dev/null || fail "the PoP is down"
pass "keys that are not UTF-8 refused on both surfaces"

# The PoP's reason phrase carries the message: a CR LF in an echoed value cannot split it.
CODE=$(curl -s -o /dev/null -D "$H/hdr" -w '%{http_code}' \
    "$POP/k?urlencoded=true&cache_ttl=1%0D%0AX-Injected:%20yes") || CODE=000
[ "$CODE" = 400 ] || fail "PoP cache_ttl with CR LF: status $CODE"
grep -qi '^X-Injected' "$H/hdr" && fail "PoP cache_ttl with CR LF split the reply: $(cat "$H/hdr")"
pass "no control character reaches a reason phrase"

# ---- keys an older build stored are listed, not dropped -----------------------------------

req GET "$URL$NS/keys?prefix=old"
expect_ok "list of keys that are not UTF-8" ".result_info.count == 2 and
    .result == [{name: \"old$FFFD(\", name_base64: \"b2xkwyg=\"},
                {name: \"old$FFFD$FFFD\", name_base64: \"b2xk//4=\"}]"
req GET "$URL$NS/keys?prefix=old%FF"
expect_ok "a prefix that is not UTF-8 matches bytes" '.result_info.count == 1
    and .result[0].name_base64 == "b2xk//4="'
req GET "$URL$NS/keys?limit=10"
expect_ok "a list with UTF-8 and other keys" "[.result[].name] == [\"old$FFFD(\", \"old$FFFD$FFFD\", \"$c40\"]"
pass "keys stored by an older build stay listed, with their exact bytes"

# ---- bulk get of a binary value -----------------------------------------------------------

printf 'a\xff\xfeb\xe2\x9c\x00z\xf0\x9f\x98\x80' >"$H/bin"
req PUT "$URL$NS/values/bin" --data-binary @"$H/bin"
expect_ok "put a binary value"
req POST "$URL$NS/bulk/get" --data-binary '{"keys": ["bin", "nope"]}'
expect_ok "bulk get text of a binary value" \
    ".result.values == {bin: \"a$FFFD${FFFD}b$FFFD\\u0000z😀\", nope: null}"
req POST "$URL$NS/bulk/get" --data-binary '{"keys": ["bin"], "type": "text", "withMetadata": true}'
expect_ok "bulk get with metadata of a binary value" \
    ".result.values.bin == {value: \"a$FFFD${FFFD}b$FFFD\\u0000z😀\", metadata: null}"
req POST "$URL$NS/bulk/get" --data-binary '{"keys": ["bin"], "type": "json"}'
expect_err "bulk get json of a binary value" 400 10029 \
    "At least one of the requested keys corresponds to a non-json value"
pass "bulk get of a binary value"

# ---- multipart metadata fields ------------------------------------------------------------

# form FILE NAME VALUE [NAME VALUE]...: a multipart body of those parts (boundary XyZ).
form() {
    local out=$1
    shift
    : >"$out"
    while [ $# -ge 2 ]; do
        printf -- '--XyZ\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s\r\n' \
            "$1" "$2" >>"$out"
        shift 2
    done
    printf -- '--XyZ--\r\n' >>"$out"
}
MP='Content-Type: multipart/form-data; boundary=XyZ'
deep="metadata[a]$(printf '[a]%.0s' $(seq 200000))"
form "$H/deep" "$deep" x value v
req PUT "$URL$NS/values/deep" -H "$MP" --data-binary @"$H/deep"
expect_err "metadata[a][a]... 200,000 deep" 400 10047 \
    "Invalid metadata: a metadata[...] field nests deeper than 256"
form "$H/deep" "$deep" x
req PUT "$URL$NS/values/deep" -H "$MP" --data-binary @"$H/deep"
expect_err "metadata[a][a]... without a value" 400 10029 \
    "Malformed multipart body: a 'value' part is required"
form "$H/ok" "metadata[a][b]" c "metadata[t][]" x "metadata[t][]" y value v
req PUT "$URL$NS/values/fields" -H "$MP" --data-binary @"$H/ok"
expect_ok "metadata fields"
req GET "$URL$NS/metadata/fields"
expect_ok "metadata fields read back" '.result == {a: {b: "c"}, t: ["x", "y"]}'
form "$H/bad" "metadata[a]" "$(printf 'x\xff')" value v
req PUT "$URL$NS/values/fields" -H "$MP" --data-binary @"$H/bad"
expect_err "a metadata field that is not UTF-8" 400 10047 \
    "Invalid metadata: a metadata[...] field is not UTF-8 text"
pass "metadata fields: depth bounded, UTF-8 required"

# metadata[x] fields without a value: refused, and nothing of them stays behind. 16 requests
# of 8 MiB would leave 128 MiB if the rebuilt metadata leaked.
head -c $((8 << 20)) /dev/zero | tr '\0' m >"$H/big"
{
    printf -- '--XyZ\r\nContent-Disposition: form-data; name="metadata[x]"\r\n\r\n'
    cat "$H/big"
    printf -- '\r\n--XyZ--\r\n'
} >"$H/novalue"
rss() { awk '/^VmRSS/ {print $2}' "/proc/$CPID/status"; }
req PUT "$URL$NS/values/nv" -H "$MP" --data-binary @"$H/novalue"
expect_err "metadata[x] without a value" 400 10029
before=$(rss)
for _ in $(seq 16); do
    req PUT "$URL$NS/values/nv" -H "$MP" --data-binary @"$H/novalue"
    [ "$CODE" = 400 ] || fail "metadata[x] without a value: status $CODE"
done
after=$(rss)
asan=0
grep -q __asan_init "$BIN/edgekv-coordinator" && asan=1
# ASan keeps freed memory in quarantine: there LeakSanitizer judges, at exit.
if [ $asan = 0 ] && [ $((after - before)) -gt $((64 << 10)) ]; then
    fail "coordinator grew from $before to $after KiB over 16 refused requests"
fi
alive "after the requests without a value"
pass "metadata[x] without a value: refused, memory flat ($before -> $after KiB)"

# ---- the coordinator exits cleanly, with nothing leaked -----------------------------------

"$EKV" down >/dev/null || fail "edgekv down"
for _ in $(seq 100); do gone "$CPID" && break; sleep 0.1; done
gone "$CPID" || fail "coordinator still running after down"
if grep -q 'LeakSanitizer\|AddressSanitizer' "$H/logs/coordinator.log"; then
    grep -A30 'Sanitizer' "$H/logs/coordinator.log" | head -60 >&2
    fail "the sanitizer reported on the coordinator"
fi
pass "coordinator stopped; no sanitizer report"
echo "$PASSED passed, 0 failed"
