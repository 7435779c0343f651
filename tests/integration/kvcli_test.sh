#!/usr/bin/env bash
# `edgekv kv`, wrangler 4's kv commands, against a kv world at time scale 20 (cacheTtl 60 s =
# 3 s real) with PoPs a (Frankfurt) and b (Rome):
#   namespace create, list, rename, delete    wrangler's lines and JSON, ids that work;
#   key put, get, list, delete                --binding through a wrangler.jsonc (comments,
#                                             trailing commas), --namespace-id, --path,
#                                             --metadata, --ttl, --text;
#   --pop                                     b keeps serving the old value after a central
#                                             write until its cacheTtl, while the central get
#                                             is new; writes through a PoP, its 1 write/s;
#   bulk put, get, delete                     round trips, base64 and metadata, --pop;
#   errors                                    the REST API's messages as wrangler prints them,
#                                             exit 1: unknown namespace, missing file, bad
#                                             flags, unknown binding or PoP, wrangler.toml.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
W=$H/worker # the user's project folder: wrangler.jsonc and the bulk files
mkdir -p "$W"
cd "$W"

# The binding's limit is 1 write/s per key in simulated time; 0.05 makes it 1 per real second.
ekv_topology "$H/world.yaml" policy=kv time_scale=20 min_cache_ttl=1 write_rate_limit=0.05 \
    a:-:Frankfurt b:-:Rome
"$EKV" up "$H/world.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"

kv() { # ARGS...: runs edgekv kv, stdout in $H/out, stderr in $H/err, status in RC
    RC=0
    "$EKV" kv "$@" >"$H/out" 2>"$H/err" </dev/null || RC=$?
}
ok() { # ARGS...: kv that must succeed
    kv "$@"
    [ "$RC" = 0 ] || fail "kv $*: exit $RC: $(cat "$H/err")"
}
refused() { # PATTERN ARGS...: kv that must exit 1 with PATTERN (grep -E) on stderr
    local pat=$1
    shift
    kv "$@"
    [ "$RC" = 1 ] || fail "kv $*: exit $RC, not 1: $(cat "$H/out" "$H/err")"
    grep -qE -- "$pat" "$H/err" || fail "kv $*: stderr lacks /$pat/: $(cat "$H/err")"
}
out_is() { # TEXT: stdout is exactly TEXT
    [ "$(cat "$H/out")" = "$1" ] || fail "expected '$1', got '$(cat "$H/out")'"
}

# ---- namespace create, list, rename, delete ------------------------------------------------
ok namespace create my-cache
[ "$(sed -n 1,5p "$H/out")" = 'Resource location: remote 

🌀 Creating namespace with title "my-cache"
✨ Success!
To access your new KV Namespace in your Worker, add the following snippet to your configuration file:' ] ||
    fail "create's lines: $(cat "$H/out")"
NS=$(sed -n '6,$p' "$H/out" | jq -r '.kv_namespaces[0] | select(.binding == "my_cache") | .id')
[[ $NS =~ ^[0-9a-f]{32}$ ]] || fail "create's snippet: $(cat "$H/out")"
ok namespace create other
OTHER=$(sed -n '6,$p' "$H/out" | jq -r '.kv_namespaces[0].id')
ok namespace list
jq -e --arg id "$NS" 'type == "array" and (map(select(.title == "my-cache"))
    == [{"id": $id, "title": "my-cache", "supports_url_encoding": true}])' "$H/out" >/dev/null ||
    fail "namespace list: $(cat "$H/out")"
grep -q '^  {$' "$H/out" || fail "namespace list is not indented as wrangler's: $(cat "$H/out")"
ok namespace rename my-cache --new-name renamed
[ "$(cat "$H/out")" = "Resource location: remote 

Renaming KV namespace $NS to \"renamed\".
✨ Successfully renamed namespace to \"renamed\"" ] || fail "rename: $(cat "$H/out")"
ok namespace rename --namespace-id "$NS" --new-name my-cache
ok namespace list
jq -e --arg id "$NS" 'map(select(.id == $id))[0].title == "my-cache"' "$H/out" >/dev/null ||
    fail "rename by id: $(cat "$H/out")"
refused '^✘ \[ERROR\] No namespace found with the name "nope"' namespace rename nope --new-name x
ok namespace delete --namespace-id "$OTHER"
[ "$(cat "$H/out")" = "Resource location: remote 

About to delete remote KV namespace id: \"$OTHER\".
This action is irreversible and will permanently delete all data in the KV namespace.

? Ok to proceed?
🤖 Using fallback value in non-interactive context: yes
Deleting KV namespace id: \"$OTHER\".
Deleted KV namespace id: \"$OTHER\"." ] || fail "namespace delete: $(cat "$H/out")"
refused "^✘ \[ERROR\] A request to the Cloudflare API \(/accounts/edgekv/storage/kv/namespaces/$OTHER/keys\) failed\.\$" \
    key list --namespace-id "$OTHER"
grep -qx '  namespace not found \[code: 10013\]' "$H/err" || fail "deleted namespace: $(cat "$H/err")"
pass "namespace create, list, rename, delete: wrangler's lines, JSON and errors"

# ---- key put, get, list, delete through the REST API ---------------------------------------
U=0123456789abcdef0123456789abcdef # a namespace nobody created
cat >wrangler.jsonc <<EOF
// the user's Worker, as wrangler 4 writes it
{
  "name": "prefs", /* JSONC: comments and trailing commas */
  "routes": ["https://prefs.example/*"], // "/*" and "//" in a string are no comments
  "vars": { "NOTE": "a \\"quoted\\" // string */" },
  "kv_namespaces": [
    { "binding": "CACHE", "id": "$NS", },
  ],
  "env": { "staging": { "kv_namespaces": [{ "binding": "CACHE", "id": "$U" }] } },
}
EOF
jq -e . wrangler.jsonc >/dev/null 2>&1 && fail "wrangler.jsonc should not be plain JSON"
ok key put k v1 --namespace-id "$NS"
out_is "Resource location: remote 

Writing the value \"v1\" to key \"k\" on namespace id: \"$NS\"."
ok key get k --binding CACHE
[ "$(od -An -c "$H/out" | tr -d ' \n')" = v1 ] || fail "key get prints the value as is"
ok key get k --namespace-id "$NS" --text
[ "$(od -An -c "$H/out" | tr -d ' \n')" = 'v1\n' ] || fail "key get --text adds a newline"
ok key put "dir/m" hello --binding CACHE --metadata '{"lang":"de"}' --ttl 3600
out_is "Resource location: remote 

Writing the value \"hello\" to key \"dir/m\" on namespace binding: \"CACHE\" (id: \"$NS\") with metadata \"{\"lang\":\"de\"}\"."
head -c 3000 /dev/urandom >"$W/blob"
ok key put blob --binding CACHE --path "$W/blob"
grep -q "^Writing the contents of $W/blob to the key \"blob\" on namespace binding: \"CACHE\" (id: \"$NS\")\.$" "$H/out" ||
    fail "put --path: $(cat "$H/out")"
ok key get blob --binding CACHE
cmp -s "$H/out" "$W/blob" || fail "key get of --path's bytes differs"
ok key put dated v --binding CACHE --expiration $(($(date +%s) + 7200))
ok key list --binding CACHE --prefix dated
jq -e '.[0].name == "dated" and (.[0].expiration | type) == "number"' "$H/out" >/dev/null ||
    fail "put --expiration: $(cat "$H/out")"
ok key delete dated --binding CACHE
ok key list --binding CACHE
jq -e '(map(.name) | sort) == ["blob", "dir/m", "k"]
    and (map(select(.name == "dir/m"))[0] | .metadata == {"lang": "de"}
    and (.expiration | type) == "number")
    and (map(select(.name == "k"))[0] | keys == ["name"])' "$H/out" >/dev/null ||
    fail "key list: $(cat "$H/out")"
ok key list --binding CACHE --prefix dir/
jq -e 'map(.name) == ["dir/m"]' "$H/out" >/dev/null || fail "key list --prefix: $(cat "$H/out")"
ok key delete k --binding CACHE
out_is "Resource location: remote 

Deleting the key \"k\" on namespace binding: \"CACHE\" (id: \"$NS\")."
refused "^✘ \[ERROR\] Failed to fetch http://127\.0\.0\.1:[0-9]+/client/v4/accounts/edgekv/storage/kv/namespaces/$NS/values/k - 404: Not Found\$" \
    key get k --binding CACHE
refused '^  Invalid expiration_ttl of 10\. Expiration TTL must be at least 60\. \[code: 10034\]$' \
    key put short v --binding CACHE --ttl 10
# A Cloudflare id in the configuration is `edgekv dev`'s namespace "wrangler:<id>" (docs/dev.md).
CF=5d9e0c2f7a8b41c6a3e2f1d0c9b8a7e6
ok namespace create "wrangler:$CF"
DEV=$(sed -n '6,$p' "$H/out" | jq -r '.kv_namespaces[0].id')
echo "{\"kv_namespaces\": [{\"binding\": \"PREFS\", \"id\": \"$CF\"}]}" >dev.json
ok key put theme dark --binding PREFS --config dev.json
out_is "Resource location: remote 

Writing the value \"dark\" to key \"theme\" on namespace binding: \"PREFS\" (id: \"$DEV\")."
ok key get theme --namespace-id "$DEV"
out_is dark
pass "key put, get, list, delete: --binding, --path, --metadata, --ttl, --expiration, --text"

# ---- --pop: one PoP's view, stale or not ----------------------------------------------------
ok key put s old --binding CACHE
ok key get s --binding CACHE --pop b
out_is old
ok key put s new --binding CACHE
T_NEW=$(date +%s%N)
ok key get s --binding CACHE
out_is new
ok key get s --binding CACHE --pop b
out_is old
ok key get s --binding CACHE --pop a
out_is new
for _ in $(seq 1 100); do
    ok key get s --binding CACHE --pop b
    [ "$(cat "$H/out")" = new ] && break
    sleep 0.1
done
out_is new
WAITED=$((($(date +%s%N) - T_NEW) / 1000000))
[ "$WAITED" -ge 1500 ] || fail "b served the new value after $WAITED ms, before its cacheTtl"
pass "--pop b serves the old value ${WAITED} ms after the central write (cacheTtl 3 s), then new"

ok key put viapop x --binding CACHE --pop a --metadata '{"by":"a"}'
refused '^  Too Many Requests \[status: 429\]$' key put viapop y --binding CACHE --pop a
grep -q '^✘ \[ERROR\] A request to PoP a (PUT /viapop?urlencoded=true) failed\.$' "$H/err" ||
    fail "the PoP's 429: $(cat "$H/err")"
ok key get viapop --binding CACHE
out_is x
ok key list --binding CACHE --pop a --prefix via
jq -e '. == [{"name": "viapop", "metadata": {"by": "a"}}]' "$H/out" >/dev/null ||
    fail "key list --pop: $(cat "$H/out")"
sleep 1.1 # the binding's 1 write/s per key
ok key delete viapop --binding CACHE --pop a
refused ' - 404: Not Found$' key get viapop --binding CACHE
pass "--pop writes go through the PoP: metadata, list, delete, and the binding's 1 write/s"

# ---- bulk put, get, delete -----------------------------------------------------------------
cat >items.json <<'EOF'
[
  {"key": "b1", "value": "one"},
  {"key": "b2", "value": "dHdv", "base64": true, "metadata": {"n": 2}},
  {"key": "b3", "value": "three", "expiration_ttl": 600, "colour": "red"}
]
EOF
echo '["b1", {"name": "b2"}, "b3", "missing"]' >keys.json
ok bulk put items.json --binding CACHE
out_is "Resource location: remote 

Success!"
grep -q '^  The item at index 2 contains unexpected properties: \["colour"\]\.$' "$H/err" ||
    fail "bulk put's warning: $(cat "$H/err")"
ok bulk get keys.json --binding CACHE
WANT='{
  "b1": "one",
  "b2": "two",
  "b3": "three",
  "missing": null
}

Success!'
out_is "$WANT"
ok bulk get keys.json --binding CACHE --pop b
out_is "$WANT"
ok key list --binding CACHE --prefix b
jq -e 'map(select(.name == "b2"))[0].metadata == {"n": 2}' "$H/out" >/dev/null ||
    fail "bulk put's metadata: $(cat "$H/out")"
ok bulk delete keys.json --binding CACHE
out_is "Resource location: remote 

? Are you sure you want to delete all the keys read from \"keys.json\" from kv-namespace binding: \"CACHE\" (id: \"$NS\")?
🤖 Using fallback value in non-interactive context: yes
Success!"
ok bulk get keys.json --binding CACHE
jq -e '. == {"b1": null, "b2": null, "b3": null, "missing": null}' \
    <(sed '/^$/,$d' "$H/out") >/dev/null || fail "after bulk delete: $(cat "$H/out")"
echo '[{"key": "p1", "value": "1"}, {"key": "p2", "value": "2"}]' >pop.json
ok bulk put pop.json --binding CACHE --pop b
echo '["p1", "p2"]' >pkeys.json
ok bulk get pkeys.json --binding CACHE
jq -e '. == {"p1": "1", "p2": "2"}' <(sed '/^$/,$d' "$H/out") >/dev/null ||
    fail "bulk put --pop: $(cat "$H/out")"
sleep 1.1 # the binding's 1 write/s per key
ok bulk delete pkeys.json --binding CACHE --pop b --force
grep -q '^? Are you sure' "$H/out" && fail "--force still asks"
ok bulk get pkeys.json --binding CACHE
jq -e '. == {"p1": null, "p2": null}' <(sed '/^$/,$d' "$H/out") >/dev/null ||
    fail "bulk delete --pop: $(cat "$H/out")"
pass "bulk put, get, delete round trips, centrally and through a PoP"

# ---- errors ---------------------------------------------------------------------------------
refused "namespaces/$U/keys\\) failed" key list --binding CACHE --env staging
refused "^✘ \[ERROR\] A request to the Cloudflare API \(/accounts/edgekv/storage/kv/namespaces/$U/bulk\) failed\.\$" \
    bulk put items.json --namespace-id $U
grep -qx '  namespace not found \[code: 10013\]' "$H/err" || fail "unknown ns: $(cat "$H/err")"
refused 'namespace not found \[code: 10013\]' key get k --namespace-id $U --pop b
refused "^✘ \[ERROR\] Could not read file: nothere.json\$" bulk get nothere.json --binding CACHE
refused '^✘ \[ERROR\] Unknown argument: bogus$' key get k --binding CACHE --bogus
grep -q '^usage: edgekv kv key get KEY' "$H/err" || fail "no usage line: $(cat "$H/err")"
refused 'Exactly one of the arguments binding and namespace-id is required' key list
refused 'Arguments binding and namespace-id are mutually exclusive' \
    key list --binding CACHE --namespace-id "$NS"
refused 'Not enough non-option arguments: got 0, need at least 1' key get --binding CACHE
refused 'Exactly one of the arguments value and path is required' key put k --binding CACHE
refused 'Invalid --ttl "soon"' key put k v --binding CACHE --ttl soon
refused 'Not enough arguments following: binding' key list --binding
refused 'no local storage' key list --binding CACHE --local
ok key list --binding CACHE --remote
refused '^✘ \[ERROR\] A namespace with binding name "NOPE" was not found in the configured "kv_namespaces"\.$' \
    key list --binding NOPE
refused '^✘ \[ERROR\] There is no PoP named "zzz" in this world\. Its PoPs: a, b$' \
    key get k --binding CACHE --pop zzz
refused '^✘ \[ERROR\] Unknown command: edgekv kv key frobnicate$' key frobnicate
echo '{"kv_namespaces": [' >broken.json
refused '^  broken\.json:[0-9]+:[0-9]+$' key list --binding CACHE --config broken.json
mv wrangler.jsonc wrangler.toml
refused '^✘ \[ERROR\] wrangler\.toml: edgekv kv reads wrangler\.json and wrangler\.jsonc only' \
    key list --binding CACHE
ok key list --namespace-id "$NS" # a TOML file is no obstacle without --binding
rm wrangler.toml
refused '^✘ \[ERROR\] No KV Namespaces configured! Either use --namespace-id' key list --binding CACHE
pass "errors: the API's messages as wrangler prints them, usage, configuration, exit 1"

cd /
echo "$PASSED passed"
