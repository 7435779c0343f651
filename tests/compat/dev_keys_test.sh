#!/usr/bin/env bash
# `edgekv dev` in a world with keys (`edgekv keys`): the coordinator's REST API then wants the
# world's token, and dev sends it when it maps the Worker's KV bindings to namespaces; the
# Worker then reads and writes through the PoP (the binding surface wants no token).
# Usage: bash dev_keys_test.sh BIN_DIR SRC_DIR
set -euo pipefail
source "$(dirname "$0")/dev_lib.sh" "$1" "$2"

"$EKV" keys >/dev/null || fail "edgekv keys"
ekv_topology "$H/w.yaml" policy=push a:0:Frankfurt
"$EKV" up "$H/w.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
C=$(jq -r '.coordinator.url' "$H/state.json")
NS_URL="$C/client/v4/accounts/x/storage/kv/namespaces"
[ "$(curl -s -o /dev/null -w '%{http_code}' "$NS_URL")" = 403 ] ||
    fail "the world's REST API answers without the token"
pass "a world with keys: its REST API refuses a request without the token (403)"

mkdir "$H/w"
cat >"$H/w/index.js" <<'JS'
export default {
  async fetch(request, env) {
    await env.KV.put("k", "v1");
    return new Response(await env.KV.get("k"));
  },
};
JS
echo '{"name": "keyed", "main": "index.js", "compatibility_date": "2025-06-01",
       "kv_namespaces": [{"binding": "KV", "id": "keyed-ns"}]}' >"$H/w/wrangler.json"
start_dev keyed "$H/w"
grep -q 'KV KV: keyed-ns -> edgekv namespace [0-9a-f]* "wrangler:keyed-ns" (created)' \
    "$H/dev-keyed.out" || devfail "dev did not map the binding"
curl -s -H "Authorization: Bearer $("$EKV" keys --token)" "$NS_URL" |
    jq -e '[.result[].title] | index("wrangler:keyed-ns") != null' >/dev/null ||
    devfail "the namespace is not at the coordinator"
[ "$(curl -s "$(url keyed a)/")" = v1 ] || devfail "the Worker at a: $(curl -s "$(url keyed a)/")"
stop_dev keyed
pass "edgekv dev sends the token: the binding's namespace was created, the Worker runs at a"
