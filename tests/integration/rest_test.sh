#!/usr/bin/env bash
# The Cloudflare REST API of the coordinator (KV-SPEC.md sections 1-3), driven with curl and
# jq as any client would: namespaces (create, list with paging/order/direction, get, rename,
# delete with its keys), values (raw and multipart writes, reads with the expiration header,
# metadata), key lists with cursors, bulk write/delete/get, memberships, /health and /metrics,
# and every validation row that applies, asserting status, envelope, error code and message.
# A second coordinator with the default same-key rate limit answers 429 (code 10022) to a
# second write within a second and accepts it after. Both coordinators run on ephemeral
# loopback ports with their own RocksDB folders and are stopped by pid on exit.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
mkdir -p "$H/logs"
# start_coord NAME [options...]: starts a coordinator with its own folder; sets URL.
start_coord() {
    local name=$1
    shift
    "$BIN/edgekv-coordinator" --data "$H/$name-db" --http 127.0.0.1:0 \
        --pub 'tcp://127.0.0.1:*' --router 'tcp://127.0.0.1:*' --ready-file "$H/$name.json" \
        "$@" >"$H/logs/$name.log" 2>&1 &
    local pid=$!
    PIDS="$PIDS $pid"
    wait_ready "$name" "$pid" "$H/$name.json"
    URL=$(jq -r .http "$H/$name.json")
    case "$URL" in http://127.0.0.1:*) ;; *) fail "coordinator $name: no http url" ;; esac
}

# req METHOD PATH [curl options...]: sets CODE; the body is in $H/body, headers in $H/hdr.
req() {
    local method=$1 path=$2
    shift 2
    CODE=$(curl -s --path-as-is -o "$H/body" -D "$H/hdr" -w '%{http_code}' -X "$method" "$@" \
        "$URL$path") || CODE=000
}

body() { head -c 400 "$H/body"; }
header() { tr -d '\r' <"$H/hdr" | sed -n "s/^$1: //Ip" | head -1; }

# expect_ok WHAT [JQ]: 200 with a success envelope, and JQ true of the body.
expect_ok() {
    [ "$CODE" = 200 ] || fail "$1: status $CODE: $(body)"
    header Content-Type | grep -q '^application/json' || fail "$1: content type"
    jq -e '.success == true and .errors == [] and .messages == [] and has("result")' \
        "$H/body" >/dev/null || fail "$1: envelope: $(body)"
    if [ -n "${2:-}" ]; then
        jq -e "$2" "$H/body" >/dev/null || fail "$1: $(body)"
    fi
}

# expect_err WHAT STATUS CODE [MESSAGE]: a failure envelope; CODE "-" accepts any number.
expect_err() {
    [ "$CODE" = "$2" ] || fail "$1: status $CODE, expected $2: $(body)"
    header Content-Type | grep -q '^application/json' || fail "$1: content type"
    jq -e '.success == false and (.errors | length) >= 1 and (.errors[0].code | type) == "number"
           and (.errors[0].message | type) == "string" and .messages == [] and .result == null' \
        "$H/body" >/dev/null || fail "$1: envelope: $(body)"
    if [ "$3" != "-" ]; then
        jq -e --argjson c "$3" '.errors[0].code == $c' "$H/body" >/dev/null ||
            fail "$1: code, expected $3: $(body)"
    fi
    if [ $# -ge 4 ]; then
        jq -e --arg m "$4" '.errors[0].message == $m' "$H/body" >/dev/null ||
            fail "$1: message, expected '$4': $(body)"
    fi
}

# expect_value WHAT PATH VALUE: GET returns exactly VALUE as raw bytes.
expect_value() {
    req GET "$2"
    [ "$CODE" = 200 ] || fail "$1: status $CODE: $(body)"
    [ "$(cat "$H/body")" = "$3" ] || fail "$1: value '$(body)', expected '$3'"
}

expect_missing() {
    req GET "$2"
    expect_err "$1" 404 10009
}

health_seq() { curl -sf "$URL/health" | jq -r .seq; }

start_coord main --write-rate-limit 0
ACC=0123456789abcdef0123456789abcdef
NS="/client/v4/accounts/$ACC/storage/kv/namespaces"
DEF=00000000000000000000000000000000

# ---- memberships, health --------------------------------------------------------------------

req GET /client/v4/memberships
expect_ok memberships '(.result | type) == "array" and (.result | length) >= 1
    and (.result[0].account.id | type) == "string" and (.result[0].account.id | length) > 0'
curl -sf "$URL/health" | jq -e '.ok == true and .seq == 0' >/dev/null || fail "health"
pass "memberships and health"

# ---- namespaces -----------------------------------------------------------------------------

declare -A ID
for t in alpha bravo charlie delta; do
    req POST "$NS" -H 'Content-Type: application/json' --data "{\"title\":\"$t\"}"
    expect_ok "create $t"
    jq -e --arg t "$t" '.result.title == $t and (.result.id | test("^[0-9a-f]{32}$"))
        and .result.supports_url_encoding == true' "$H/body" >/dev/null ||
        fail "create $t: $(body)"
    ID[$t]=$(jq -r .result.id "$H/body")
done
[ "$(printf '%s\n' "${ID[@]}" | sort -u | wc -l)" = 4 ] || fail "namespace ids not unique"
pass "create namespaces"

req POST "$NS" --data '{"title":"alpha"}'
expect_err "duplicate title" 400 10014
req POST "$NS" --data '{}'
expect_err "missing title" 400 10019
req POST "$NS" --data '{"title":""}'
expect_err "empty title" 400 10019
req POST "$NS" --data 'not json'
expect_err "no JSON body" 400 10019
t512=$(head -c 512 /dev/zero | tr '\0' t)
req POST "$NS" --data "{\"title\":\"${t512}x\"}"
expect_err "title of 513 characters" 400 10019
pass "namespace create errors (10014, 10019)"

# 5 namespaces: the default one and the four above. Page through 2 at a time.
all_ids=""
for page in 1 2 3; do
    req GET "$NS?per_page=2&page=$page"
    want=$([ "$page" = 3 ] && echo 1 || echo 2)
    expect_ok "list page $page" "(.result | length) == $want and .result_info.count == $want
        and .result_info.page == $page and .result_info.per_page == 2
        and .result_info.total_count == 5"
    all_ids="$all_ids $(jq -r '.result[].id' "$H/body")"
done
[ "$(echo $all_ids | tr ' ' '\n' | sort -u | wc -l)" = 5 ] || fail "paging lost or repeated: $all_ids"
for t in alpha bravo charlie delta; do
    echo "$all_ids" | grep -q "${ID[$t]}" || fail "paging misses $t"
done
echo "$all_ids" | grep -q $DEF || fail "paging misses the default namespace"
req GET "$NS?per_page=2&page=4"
expect_ok "page past the end" '.result == [] and .result_info.count == 0
    and .result_info.total_count == 5'
req GET "$NS?per_page=2&page=50"
expect_ok "page far past the end" '.result == []'
pass "namespace list pages, a page past the end is empty"

req GET "$NS?order=title&direction=desc"
expect_ok "order=title desc" \
    '[.result[].title] == ["delta", "default", "charlie", "bravo", "alpha"]'
req GET "$NS?order=title&direction=asc&per_page=2&page=2"
expect_ok "order=title asc page 2" '[.result[].title] == ["charlie", "default"]'
req GET "$NS?order=title&direction=desc&per_page=2&page=2"
expect_ok "order=title desc page 2" '[.result[].title] == ["charlie", "bravo"]'
req GET "$NS?order=id"
expect_ok "order=id" '[.result[].id] == ([.result[].id] | sort) and (.result | length) == 5'
req GET "$NS?order=id&direction=desc"
expect_ok "order=id desc" '[.result[].id] == ([.result[].id] | sort | reverse)'
pass "namespace list order and direction"

req GET "$NS/${ID[bravo]}"
expect_ok "get namespace" ".result.id == \"${ID[bravo]}\" and .result.title == \"bravo\""
req GET "$NS/ffffffffffffffffffffffffffffffff"
expect_err "unknown namespace" 404 10013
req GET "$NS/ffffffffffffffffffffffffffffffff/values/k"
expect_err "value in unknown namespace" 404 10013
req PUT "$NS/ffffffffffffffffffffffffffffffff/values/k" --data-binary v
expect_err "write in unknown namespace" 404 10013
req GET "$NS/ffffffffffffffffffffffffffffffff/keys"
expect_err "keys of unknown namespace" 404 10013
pass "get namespace, unknown namespace 10013"

req PUT "$NS/${ID[alpha]}" --data '{"title":"alpha-renamed"}'
expect_ok "rename" ".result.id == \"${ID[alpha]}\" and .result.title == \"alpha-renamed\""
req GET "$NS/${ID[alpha]}"
expect_ok "renamed" '.result.title == "alpha-renamed"'
req PUT "$NS/${ID[bravo]}" --data '{"title":"alpha-renamed"}'
expect_err "rename to a taken title" 400 10014
req PUT "$NS/${ID[bravo]}" --data '{}'
expect_err "rename without title" 400 10019
req PUT "$NS/${ID[bravo]}" --data '{"title":"bravo"}'
expect_ok "rename to its own title" '.result.title == "bravo"'
req POST "$NS" --data '{"title":"alpha"}'
expect_ok "old title free again" '.result.title == "alpha"'
req POST "$NS" --data "{\"title\":\"$t512\"}"
expect_ok "title of 512 characters" '.result.title | length == 512'
pass "rename namespace; title limit 512"

# ---- values -------------------------------------------------------------------------------

V="$NS/${ID[bravo]}/values"
req PUT "$V/greeting" --data-binary 'hello world'
expect_ok "raw put" '.result == {}'
expect_value "raw get" "$V/greeting" 'hello world'
[ -z "$(header expiration)" ] || fail "expiration header on a key without expiration"
req GET "$NS/${ID[bravo]}/metadata/greeting"
expect_ok "metadata of a key without metadata" '.result == null'
req GET "$NS/${ID[charlie]}/values/greeting"
expect_err "same key, other namespace" 404 10009
pass "raw write and read"

head -c 4096 /dev/urandom >"$H/random.bin"
printf 'a\r\n--b\r\n\0--\r\n' >>"$H/random.bin"
req PUT "$V/bin" --data-binary @"$H/random.bin"
expect_ok "binary put"
req GET "$V/bin"
cmp -s "$H/body" "$H/random.bin" || fail "binary value changed"
req PUT "$V/empty" --data-binary ''
expect_ok "empty value put"
req GET "$V/empty"
[ "$CODE" = 200 ] && [ ! -s "$H/body" ] || fail "empty value: $CODE $(body)"
req PUT "$V/a%2Fb%20c" --data-binary 'slash'
expect_ok "put key with / and space"
expect_value "get key with /" "$V/a%2Fb%20c" slash
req PUT "$V/%E2%9C%93" --data-binary 'check'
expect_ok "put UTF-8 key"
expect_value "get UTF-8 key" "$V/%E2%9C%93" check
req PUT "$V/greeting" --data-binary 'second'
expect_value "overwrite" "$V/greeting" second
pass "binary, empty, slash and UTF-8 keys, overwrite"

req PUT "$V/form" --form-string 'value=from a form' --form-string 'metadata={"color":"red","n":1}'
expect_ok "multipart put" '.result == {}'
expect_value "multipart value" "$V/form" 'from a form'
req GET "$NS/${ID[bravo]}/metadata/form"
expect_ok "multipart metadata" '.result == {"color": "red", "n": 1}'
req PUT "$V/formfile" -F "value=@$H/random.bin;type=application/octet-stream" \
    --form-string 'metadata="just a string"'
expect_ok "multipart file put"
req GET "$V/formfile"
cmp -s "$H/body" "$H/random.bin" || fail "multipart file value changed"
req GET "$NS/${ID[bravo]}/metadata/formfile"
expect_ok "string metadata" '.result == "just a string"'
req PUT "$V/sdk" --form-string 'value=sdk' --form-string 'metadata[color]=blue' \
    --form-string 'metadata[n]=2'
expect_ok "SDK-style metadata fields"
req GET "$NS/${ID[bravo]}/metadata/sdk"
# Form fields carry text: the values come back as strings (a number sent this way is "2").
expect_ok "SDK-style metadata" '.result == {"color": "blue", "n": "2"}'
req PUT "$V/novalue" --form-string 'metadata={}'
expect_err "multipart without value" 400 -
expect_missing "multipart without value stored nothing" "$V/novalue"
pass "multipart writes (curl -F, file part, SDK metadata[k])"

now=$(date +%s)
exp=$((now + 300))
req PUT "$V/expiring?expiration=$exp" --data-binary 'soon'
expect_ok "put with expiration"
expect_value "get expiring" "$V/expiring" soon
[ "$(header expiration)" = "$exp" ] || fail "expiration header '$(header expiration)', expected $exp"
req PUT "$V/ttl?expiration_ttl=600" --data-binary 'ttl'
expect_ok "put with expiration_ttl"
req GET "$V/ttl"
e=$(header expiration)
[ -n "$e" ] && [ "$e" -ge $((now + 600)) ] && [ "$e" -le $((now + 610)) ] ||
    fail "ttl expiration header '$e'"
req PUT "$V/both?expiration=$((now + 100000))&expiration_ttl=600" --data-binary 'both'
expect_ok "put with both"
req GET "$V/both"
e=$(header expiration)
[ -n "$e" ] && [ "$e" -le $((now + 610)) ] || fail "expiration_ttl must win, got '$e'"
pass "expiration, expiration_ttl (header on read; ttl wins)"

# ---- validation errors ----------------------------------------------------------------------

expect_missing "missing key" "$V/no-such-key"
req GET "$NS/${ID[bravo]}/metadata/no-such-key"
expect_err "metadata of missing key" 404 10009
pass "missing key 404 10009"

k512=$(head -c 512 /dev/zero | tr '\0' k)
req PUT "$V/$k512" --data-binary 'max key'
expect_ok "512-byte key"
expect_value "512-byte key read" "$V/$k512" 'max key'
req PUT "$V/${k512}k" --data-binary v
expect_err "513-byte key" 414 10030 "UTF-8 encoded length of 513 exceeds key length limit of 512."
req GET "$V/${k512}k"
expect_err "513-byte key read" 414 10030
check171=$(for _ in $(seq 1 171); do printf '%%E2%%9C%%93'; done) # 171 x 3 bytes = 513
req PUT "$V/$check171" --data-binary v
expect_err "513 UTF-8 bytes in 171 characters" 414 10030 \
    "UTF-8 encoded length of 513 exceeds key length limit of 512."
pass "key length limit counts UTF-8 bytes (414, 10030)"

req PUT "$V/" --data-binary v
expect_err "empty key" 400 - "Key names must not be empty"
req PUT "$V/%2E" --data-binary v
expect_err "key ." 400 10042 'Illegal key name ".". Please use a different name.'
req PUT "$V/%2E%2E" --data-binary v
expect_err "key .." 400 10042 'Illegal key name "..". Please use a different name.'
req GET "$V/%2E"
expect_err "read key ." 400 10042
req PUT "$V/%2E%2E%2E" --data-binary 'three dots'
expect_ok "key ... is legal"
req PUT "$V/%zz" --data-binary v
expect_err "bad percent-encoding" 400 - "Could not URL-decode key name"
req GET "$V/abc%2"
expect_err "truncated percent-encoding" 400 - "Could not URL-decode key name"
pass "illegal and undecodable keys"

head -c 26214401 /dev/zero | tr '\0' v >"$H/big"
req PUT "$V/big" --data-binary @"$H/big"
expect_err "value too large" 413 - "Value length of 26214401 exceeds limit of 26214400."
expect_missing "too large value not stored" "$V/big"
truncate -s 26214400 "$H/big"
req PUT "$V/big" --data-binary @"$H/big"
expect_ok "value of exactly 25 MiB"
req GET "$V/big"
[ "$CODE" = 200 ] && [ "$(stat -c %s "$H/body")" = 26214400 ] || fail "25 MiB value read back"
rm -f "$H/big"
pass "value limit 26214400 (413 above)"

meta1025="{\"a\":\"$(head -c 1017 /dev/zero | tr '\0' m)\"}"
meta1024="{\"a\":\"$(head -c 1016 /dev/zero | tr '\0' m)\"}"
req PUT "$V/meta" --form-string value=v --form-string "metadata=$meta1025"
expect_err "metadata too large" 413 - "Metadata length of 1025 exceeds limit of 1024."
expect_missing "too large metadata not stored" "$V/meta"
req PUT "$V/meta" --form-string value=v --form-string "metadata=$meta1024"
expect_ok "metadata of 1024 bytes"
req PUT "$V/meta2" --form-string value=v --form-string 'metadata={not json'
expect_err "metadata not JSON" 400 10047
pass "metadata limit 1024 (413 above), invalid metadata 10047"

req PUT "$V/exp?expiration_ttl=30" --data-binary v
expect_err "ttl 30" 400 10034 "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
req PUT "$V/exp?expiration_ttl=abc" --data-binary v
expect_err "ttl abc" 400 10034 "Invalid expiration_ttl of abc. Please specify integer greater than 0."
req PUT "$V/exp?expiration_ttl=0" --data-binary v
expect_err "ttl 0" 400 10034 "Invalid expiration_ttl of 0. Please specify integer greater than 0."
req PUT "$V/exp?expiration=1000" --data-binary v
expect_err "expiration in the past" 400 10033 "Invalid expiration of 1000. Please specify integer greater than the current number of seconds since the UNIX epoch."
soon=$(($(date +%s) + 30))
req PUT "$V/exp?expiration=$soon" --data-binary v
expect_err "expiration in 30 s" 400 10033 "Invalid expiration of $soon. Expiration times must be at least 60 seconds in the future."
req PUT "$V/exp?expiration=$((soon + 1000)).5" --data-binary v
expect_err "fractional expiration" 400 10033
expect_missing "rejected expirations stored nothing" "$V/exp"
req PUT "$V/exp?expiration_ttl=60" --data-binary v
expect_ok "ttl 60 is the minimum"
pass "expiration and expiration_ttl validation (10033, 10034)"

# ---- keys list ----------------------------------------------------------------------------

req POST "$NS" --data '{"title":"listing"}'
expect_ok "create listing"
LNS=$(jq -r .result.id "$H/body")
L="$NS/$LNS"
jq -n '[range(25) | {key: ("k" + (if . < 10 then "0" else "" end) + tostring),
                     value: "v\(.)"}]
       | .[3].metadata = {"i": 3} | .[5].expiration_ttl = 3600' >"$H/bulk.json"
now=$(date +%s)
req PUT "$L/bulk" -H 'Content-Type: application/json' --data-binary @"$H/bulk.json"
expect_ok "bulk write 25" '.result.successful_key_count == 25 and .result.unsuccessful_keys == []'

req GET "$L/keys?limit=10"
expect_ok "keys page 1" '[.result[].name] == ["k00","k01","k02","k03","k04","k05","k06","k07","k08","k09"]
    and .result_info.count == 10 and (.result_info.cursor | length) > 0'
jq -e '.result[3] == {"name": "k03", "metadata": {"i": 3}}
       and (.result[0] | keys) == ["name"]
       and (.result[5] | keys) == ["expiration", "name"]' "$H/body" >/dev/null ||
    fail "list entries: $(body)"
e=$(jq '.result[5].expiration' "$H/body")
[ "$e" -ge $((now + 3600)) ] && [ "$e" -le $((now + 3610)) ] || fail "list expiration $e"
cursor=$(jq -r .result_info.cursor "$H/body")
# A key written between pages, after the cursor, shows up on the next page.
req PUT "$L/values/k095" --data-binary 'late'
expect_ok "put between pages"
req GET "$L/keys?limit=10&cursor=$cursor"
expect_ok "keys page 2" '[.result[].name] == ["k095","k10","k11","k12","k13","k14","k15","k16","k17","k18"]
    and (.result_info.cursor | length) > 0'
cursor=$(jq -r .result_info.cursor "$H/body")
req GET "$L/keys?limit=10&cursor=$cursor"
expect_ok "keys page 3" '[.result[].name] == ["k19","k20","k21","k22","k23","k24"]
    and .result_info.count == 6 and .result_info.cursor == ""'
req GET "$L/keys"
expect_ok "keys default limit" '(.result | length) == 26 and .result_info.cursor == ""'
req GET "$L/keys?prefix="
expect_ok "keys with empty prefix (wrangler)" '(.result | length) == 26'
req GET "$L/keys?prefix=k1"
expect_ok "keys with prefix" '[.result[].name] == ["k10","k11","k12","k13","k14","k15","k16","k17","k18","k19"]'
req GET "$L/keys?prefix=zz"
expect_ok "keys with unmatched prefix" '.result == [] and .result_info.cursor == ""'
req GET "$NS/${ID[bravo]}/keys?prefix=a%2F"
expect_ok "keys with encoded prefix" '[.result[].name] == ["a/b c"]'
pass "keys list: entries, paging with cursor, key inserted between pages, prefix"

req GET "$L/keys?limit=5"
expect_err "limit 5" 400 10028
jq -e '.errors[0].message | startswith("Invalid key_count_limit of 5.")' "$H/body" >/dev/null ||
    fail "limit 5 message: $(body)"
req GET "$L/keys?limit=1001"
expect_err "limit 1001" 400 10028 "Invalid key_count_limit of 1001. Please specify an integer less than 1000."
req GET "$L/keys?limit=1000"
expect_ok "limit 1000"
req GET "$L/keys?limit=abc"
expect_err "limit abc" 400 10028
req GET "$L/keys?prefix=$(head -c 513 /dev/zero | tr '\0' p)"
expect_err "prefix of 513 bytes" 414 10030 "UTF-8 encoded length of 513 exceeds key length limit of 512."
req GET "$L/keys?cursor=not-a-cursor!"
expect_err "bad cursor" 400 10041 "Invalid cursor"
req GET "$L/keys?cursor=aGVsbG8"
expect_err "base64 cursor without version" 400 10041 "Invalid cursor"
pass "list limit (10028), prefix (414) and cursor (10041) validation"

# ---- bulk get -----------------------------------------------------------------------------

req POST "$L/bulk/get" --data '{"keys":["k00","k03","nope"]}'
expect_ok "bulk get text" '.result.values == {"k00": "v0", "k03": "v3", "nope": null}'
req POST "$L/bulk/get" --data '{"keys":["k00","k03","k05","nope"],"withMetadata":true}'
expect_ok "bulk get withMetadata" '.result.values.k00 == {"value": "v0", "metadata": null}
    and .result.values.k03 == {"value": "v3", "metadata": {"i": 3}}
    and .result.values.k05.value == "v5" and (.result.values.k05.expiration | type) == "number"
    and .result.values.nope == null'
req PUT "$L/values/j1" --data-binary '{"a":[1,2]}'
expect_ok "put json"
req POST "$L/bulk/get" --data '{"keys":["j1"],"type":"json"}'
expect_ok "bulk get json" '.result.values.j1 == {"a": [1, 2]}'
req POST "$L/bulk/get" --data '{"keys":["j1","k00"],"type":"json"}'
expect_err "bulk get json on text" 400 - "At least one of the requested keys corresponds to a non-json value"
req POST "$L/bulk/get" --data "$(jq -nc '{keys: [range(101) | "k\(.)"]}')"
expect_err "bulk get 101 keys" 400 - "You can request a maximum of 100 keys"
req POST "$L/bulk/get" --data '{"keys":[]}'
expect_err "bulk get 0 keys" 400 - "You must request a minimum of 1 key"
req POST "$L/bulk/get" --data '{"keys":["k00"],"type":"xml"}'
expect_err "bulk get bad type" 400 - '"xml" is not a valid type. Use "json" or "text"'
req POST "$L/bulk/get" --data "$(jq -nc '{keys: [range(100) | "k\(.)"]}')"
expect_ok "bulk get 100 keys" '(.result.values | length) == 100'
pass "bulk get (text, json, withMetadata, limits)"

# ---- bulk write and delete ----------------------------------------------------------------

req POST "$NS" --data '{"title":"bulk"}'
expect_ok "create bulk"
BNS="$NS/$(jq -r .result.id "$H/body")"
seq_before=$(health_seq)
jq -nc '[range(10001) | {key: "b\(.)", value: "v"}]' >"$H/bulk10001.json"
req PUT "$BNS/bulk" --data-binary @"$H/bulk10001.json"
[ "$CODE" != 200 ] || fail "10001 items accepted"
expect_err "bulk write 10001" "$CODE" -
req GET "$BNS/keys"
expect_ok "nothing stored after 10001" '.result == []'
[ "$(health_seq)" = "$seq_before" ] || fail "10001 items changed the sequence"

req PUT "$BNS/bulk" --data '[{"key":"ok1","value":"1"},{"key":".","value":"2"},{"key":"ok3","value":"3"}]'
expect_err "bulk write with key ." 400 10042 'Illegal key name ".". Please use a different name.'
req PUT "$BNS/bulk" --data '[{"key":"ok1","value":"1"},{"key":"ok2","value":"2","expiration_ttl":30}]'
expect_err "bulk write with ttl 30" 400 10034 "Invalid expiration_ttl of 30. Expiration TTL must be at least 60."
req PUT "$BNS/bulk" --data "[{\"key\":\"ok1\",\"value\":\"1\"},{\"key\":\"$k512\",\"value\":\"1\"},{\"key\":\"${k512}k\",\"value\":\"2\"}]"
expect_err "bulk write with 513-byte key" 414 10030
req PUT "$BNS/bulk" --data '[{"key":"ok1","value":"1"},{"key":"ok2","value":7}]'
expect_err "bulk write with a number value" 400 -
req PUT "$BNS/bulk" --data '[{"key":"ok1","value":"1"},{"key":"ok2","value":"x","metadata":"'"$(head -c 1030 /dev/zero | tr '\0' m)"'"}]'
expect_err "bulk write with large metadata" 413 -
req GET "$BNS/keys"
expect_ok "nothing stored after invalid items" '.result == []'
[ "$(health_seq)" = "$seq_before" ] || fail "rejected bulk writes changed the sequence"
pass "bulk write: 10001 items or one invalid item -> error, nothing stored"

jq -nc '[range(10000) | {key: "b\(.)", value: "v\(.)"}]
        | .[0].base64 = true | .[0].value = "aGVsbG8=" ' >"$H/bulk10000.json"
req PUT "$BNS/bulk" --data-binary @"$H/bulk10000.json"
expect_ok "bulk write 10000" '.result.successful_key_count == 10000 and .result.unsuccessful_keys == []'
[ "$(health_seq)" = $((seq_before + 10000)) ] || fail "10000 items: seq $(health_seq)"
expect_value "bulk base64 value" "$BNS/values/b0" hello
expect_value "bulk last value" "$BNS/values/b9999" v9999
req GET "$BNS/keys"
expect_ok "list after 10000" '(.result | length) == 1000 and (.result_info.cursor | length) > 0'
pass "bulk write of 10000 items (base64 decoded)"

req POST "$BNS/bulk/delete" --data '["b1","b2","never-existed"]'
expect_ok "bulk delete" '.result.successful_key_count == 3 and .result.unsuccessful_keys == []'
expect_missing "bulk deleted b1" "$BNS/values/b1"
expect_missing "bulk deleted b2" "$BNS/values/b2"
req DELETE "$BNS/bulk" --data '["b3"]'
expect_ok "bulk delete with DELETE" '.result.successful_key_count == 1'
expect_missing "bulk deleted b3" "$BNS/values/b3"
expect_value "not deleted b4" "$BNS/values/b4" v4
req POST "$BNS/bulk/delete" --data '["b4","."]'
expect_err "bulk delete with key ." 400 10042
expect_value "invalid bulk delete deleted nothing" "$BNS/values/b4" v4
req DELETE "$BNS/values/b4"
expect_ok "delete value" '.result == {}'
expect_missing "deleted b4" "$BNS/values/b4"
req DELETE "$BNS/values/never-existed"
expect_ok "delete a missing key"
pass "bulk delete (POST and DELETE), single delete, delete of a missing key"

# ---- namespace delete ---------------------------------------------------------------------

req POST "$NS" --data '{"title":"doomed"}'
expect_ok "create doomed"
DNS=$(jq -r .result.id "$H/body")
req PUT "$NS/$DNS/bulk" --data '[{"key":"x","value":"1"},{"key":"y","value":"2"},{"key":"z","value":"3"}]'
expect_ok "fill doomed"
seq_before=$(health_seq)
req DELETE "$NS/$DNS"
expect_ok "delete namespace" '.result == {}'
req GET "$NS/$DNS"
expect_err "deleted namespace" 404 10013
req GET "$NS/$DNS/values/x"
expect_err "value of deleted namespace" 404 10013
req GET "$NS?per_page=100"
jq -e --arg id "$DNS" '[.result[].id] | index($id) == null' "$H/body" >/dev/null ||
    fail "deleted namespace still listed"
# Its 3 keys were deleted as 3 changes (PoPs learn of them like any delete).
[ "$(health_seq)" = $((seq_before + 3)) ] || fail "namespace delete: seq $(health_seq), expected $((seq_before + 3))"
req POST "$NS" --data '{"title":"doomed"}'
expect_ok "title free after delete"
req GET "$NS/$(jq -r .result.id "$H/body")/keys"
expect_ok "new namespace is empty" '.result == []'
pass "namespace delete removes it and its keys"

# ---- metrics ------------------------------------------------------------------------------

curl -sf "$URL/metrics" >"$H/metrics" || fail "metrics"
seq=$(health_seq)
grep -qx "edgekv_latest_sequence $seq" "$H/metrics" ||
    fail "edgekv_latest_sequence is not $seq: $(grep latest_sequence "$H/metrics")"
w=$(sed -n 's/^edgekv_operations_total{op="write"} //p' "$H/metrics")
[ -n "$w" ] && [ "$w" -gt 10000 ] || fail "write counter '$w'"
grep -q '^edgekv_operations_total{op="read"} [1-9]' "$H/metrics" || fail "read counter"
pass "metrics: latest sequence $seq, $w writes"

# ---- same-key rate limit (default: 1 write per second), on the binding only ----------------------

# The REST API has no per-key limit (only the account's API limit): writes and a delete of
# one key in quick succession are all accepted, in order.
start_coord limited
LIMITED=$URL
R="$NS/$DEF/values"
req PUT "$R/hot" --data-binary first
expect_ok "first REST write"
req PUT "$R/hot" --data-binary second
expect_ok "second REST write at once"
expect_value "the second REST write is stored" "$R/hot" second
req DELETE "$R/hot"
expect_ok "REST delete at once"
req GET "$R/hot"
[ "$CODE" = 404 ] || fail "REST delete right after two writes: the key still reads ($CODE)"
pass "REST: two writes and a delete of one key at once are all accepted"

# The binding (a PoP's writes) allows 1 write per second per key: a PoP of this coordinator.
"$BIN/edgekv-node" --name limits --http 127.0.0.1:0 --pub "$(jq -r .pub "$H/limited.json")" \
    --router "$(jq -r .router "$H/limited.json")" --ready-file "$H/limits-pop.json" \
    >"$H/logs/limits-pop.log" 2>&1 &
PIDS="$PIDS $!"
for _ in $(seq 1 200); do
    [ -s "$H/limits-pop.json" ] && break
    sleep 0.05
done
POP=$(jq -r .url "$H/limits-pop.json") || fail "the PoP did not become ready"
now_ms() { date +%s%3N; }
# The checks below need the requests to land within one second of the first write; on a busy
# machine an attempt can take longer, so each is timed and only a quick one counts.
quick=""
for attempt in 1 2 3 4 5; do
    K="hot$attempt"
    t0=$(now_ms)
    c1=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary first "$POP/$K")
    [ "$c1" = 200 ] || fail "first binding write: $c1"
    curl -s -D "$H/second.hdr" -o "$H/second.body" -w '%{http_code}' -X PUT \
        --data-binary second "$POP/$K" >"$H/second.code"
    [ $(($(now_ms) - t0)) -lt 900 ] || continue
    quick=$K
    break
done
[ -n "$quick" ] || fail "no attempt finished within 0.9 s: the machine is too slow for this check"
[ "$(cat "$H/second.code")" = 429 ] || fail "second binding write within a second: $(cat \
    "$H/second.code"), expected 429"
grep -q '^HTTP/1.1 429 Too Many Requests' "$H/second.hdr" ||
    fail "429 without the message as its reason: $(head -1 "$H/second.hdr")"
URL=$LIMITED
expect_value "refused write not stored" "$R/$quick" first
sleep 1.1
c3=$(curl -s -o /dev/null -w '%{http_code}' -X PUT --data-binary third "$POP/$quick")
[ "$c3" = 200 ] || fail "binding write after 1.1 s: $c3"
expect_value "write after 1.1 s stored" "$R/$quick" third
pass "binding same-key rate limit: 429 Too Many Requests within a second, allowed after"

echo "$PASSED passed, 0 failed"
