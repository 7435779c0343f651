#!/usr/bin/env bash
# `edgekv kv` beside the real wrangler (pinned in tests/compat/package.json): the same commands,
# in the same folder, against the same world (wrangler --remote through CLOUDFLARE_API_BASE_URL),
# must print the same stdout and stderr and exit with the same status. Compared after dropping
# what only wrangler prints: its help text on a usage error (edgekv prints one usage line), the
# "If you think this is a bug" and log-file lines and the blank note before them; 32-hex ids are
# written as <id> where each side creates its own namespace. One known difference is checked on
# its own: a missing key's "Failed to fetch URL - 404: TEXT" (wrangler 4.86 prints the reason
# phrase, "Error" from the coordinator, and a stray ");"; edgekv the status's standard text).
# Needs Node.js >= 20 (scripts/lib/node.sh) and the npm packages of tests/compat (installed as
# run.sh installs them).
set -euo pipefail
source "$(dirname "$0")/../integration/lib.sh" "$1" "$2"
# shellcheck source-path=SCRIPTDIR
. "$SRC/scripts/lib/node.sh"
ekv_use_node || exit 2
COMPAT=$SRC/tests/compat
if [ ! -x "$COMPAT/node_modules/.bin/wrangler" ] || [ ! -f "$COMPAT/node_modules/.package-lock.json" ] ||
    [ "$COMPAT/package-lock.json" -nt "$COMPAT/node_modules/.package-lock.json" ]; then
    (cd "$COMPAT" && npm ci --no-audit --no-fund >/dev/null)
fi

H=$EDGEKV_HOME
CWD=$H/cwd
mkdir -p "$CWD" "$H/home" "$H/tmp"
ekv_topology "$H/world.yaml" policy=kv time_scale=20 min_cache_ttl=1 a:-:Frankfurt
"$EKV" up "$H/world.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
COORD=$(jq -r .coordinator.url "$H/state.json")
API=$COORD/client/v4/accounts/edgekv/storage/kv/namespaces

wrangler() { # the real one, isolated: HOME, caches and logs in $H, nothing but 127.0.0.1
    env -i PATH="$PATH" HOME="$H/home" XDG_CONFIG_HOME="$H/home/.config" TMPDIR="$H/tmp" \
        npm_config_registry=http://127.0.0.1:9/ CLOUDFLARE_API_BASE_URL="$COORD/client/v4" \
        CLOUDFLARE_API_TOKEN=test CLOUDFLARE_ACCOUNT_ID=edgekv WRANGLER_SEND_METRICS=false \
        WRANGLER_SEND_ERROR_REPORTS=false WRANGLER_HIDE_BANNER=true NO_COLOR=1 FORCE_COLOR=0 \
        "$COMPAT/node_modules/.bin/wrangler" "$@"
}
norm() { # FILE: ANSI colours, wrangler's bug and log lines, blank lines and ids dropped, the
    # commands it names in its messages spelled as edgekv's
    sed 's/\x1b\[[0-9;]*m//g; s/[0-9a-f]\{32\}/<id>/g; s/"wrangler kv /"edgekv kv /g;
        s/^    wrangler kv /    edgekv kv /' "$1" |
        grep -av 'If you think this is a bug\|Logs were written to\|^ *$' || true
}
# same ARGS...: wrangler's and edgekv's outputs and statuses agree; a usage error's help (on
# wrangler's stdout) is set aside: compared are stderr and the status. $BETWEEN, when set, runs
# after wrangler's turn (to undo what it did).
same() {
    local wr=0 ek=0
    (cd "$CWD" && wrangler "$@" >"$H/w.out" 2>"$H/w.err" </dev/null) || wr=$?
    [ -z "${BETWEEN:-}" ] || eval "$BETWEEN"
    (cd "$CWD" && "$EKV" "$@" >"$H/e.out" 2>"$H/e.err" </dev/null) || ek=$?
    [ "$wr" = "$ek" ] || fail "$*: wrangler exit $wr, edgekv $ek: $(cat "$H/w.err" "$H/e.err")"
    norm "$H/w.err" >"$H/w.err.n"
    norm "$H/e.err" | grep -v '^usage: edgekv kv \|^  NS: ' >"$H/e.err.n" || true
    diff -u "$H/w.err.n" "$H/e.err.n" >"$H/diff" || fail "$*: stderr differs: $(cat "$H/diff")"
    if grep -q '^POSITIONALS\|^GLOBAL FLAGS' "$H/w.out"; then
        [ "$wr" != 0 ] || fail "$*: wrangler printed its help and succeeded"
        return 0
    fi
    cmp -s <(norm "$H/w.out") <(norm "$H/e.out") ||
        fail "$*: stdout differs: $(diff -u <(norm "$H/w.out") <(norm "$H/e.out"))"
    # key get prints the value's bytes as they are: compare them unfiltered
    if [ "$1 $2 $3" = "kv key get" ]; then
        cmp -s "$H/w.out" "$H/e.out" || fail "$*: the value's bytes differ"
    fi
    COMPARED=$((${COMPARED:-0} + 1))
}
rest() { # METHOD PATH [BODY]: one call to the REST API, its result
    curl -sf -X "$1" "$API$2" ${3:+--data-binary "$3"} | jq -c .result
}

# ---- namespaces: each side creates, renames and deletes its own ------------------------------
same kv namespace list
titled() { # TITLE: the id of the namespace with that title
    rest GET "?per_page=100" | jq -r --arg t "$1" '.[] | select(.title == $t) | .id'
}
# wrangler's "shared" is renamed before edgekv creates its own
BETWEEN='rest PUT "/$(titled shared)" "{\"title\": \"by-wrangler\"}" >/dev/null'
same kv namespace create shared
BETWEEN=""
NS=$(titled by-wrangler)
[ -n "$NS" ] && [ -n "$(titled shared)" ] || fail "each side did not create its namespace"
same kv namespace create shared # the title is taken now: both print the API's 10014
same kv namespace list
MINE=$(titled shared)
BETWEEN="rest PUT /$MINE '{\"title\": \"shared\"}' >/dev/null" # each renames it once
same kv namespace rename shared --new-name renamed
BETWEEN="rest PUT /$MINE '{\"title\": \"again\"}' >/dev/null"
same kv namespace rename --namespace-id "$MINE" --new-name renamed-too
BETWEEN=""
same kv namespace rename nope --new-name x
A=$(rest POST "" '{"title": "gone-a"}' | jq -r .id)
B=$(rest POST "" '{"title": "gone-b"}' | jq -r .id)
wr=0
(cd "$CWD" && wrangler kv namespace delete --namespace-id "$A" >"$H/w.out" 2>&1) || wr=$?
"$EKV" kv namespace delete --namespace-id "$B" >"$H/e.out" 2>&1 </dev/null || fail "edgekv delete"
[ "$wr" = 0 ] || fail "wrangler delete: $(cat "$H/w.out")"
cmp -s <(norm "$H/w.out") <(norm "$H/e.out") ||
    fail "namespace delete: $(diff -u <(norm "$H/w.out") <(norm "$H/e.out"))"
pass "namespace create, list, rename, delete: as wrangler prints them"

# ---- keys and bulk, by --namespace-id and by --binding ----------------------------------------
cat >"$CWD/wrangler.jsonc" <<EOF
// both read this
{
  "name": "prefs",
  "kv_namespaces": [
    { "binding": "PREFS", "id": "$NS", }, // trailing commas, as wrangler allows
    { "binding": "BOTH", "id": "$NS", "preview_id": "$NS" },
  ],
}
EOF
head -c 700 /dev/urandom >"$CWD/blob"
cat >"$CWD/items.json" <<'EOF'
[{"key": "b1", "value": "one"}, {"key": "b2", "value": "dHdv", "base64": true, "metadata": {"n": 2}},
 {"key": "b3", "value": "three", "expiration_ttl": 600, "colour": "red"}]
EOF
echo '["b1", {"name": "b2"}, "b3", "nope"]' >"$CWD/keys.json"
echo '[1, {"key": 2}, "k"]' >"$CWD/bad.json"
for how in "--namespace-id $NS" "--binding PREFS"; do
    # shellcheck disable=SC2086 # $how is two words
    {
        same kv key put k v1 $how --remote
        same kv key put m "hello there" $how --remote --metadata '{"lang":"de"}' --ttl 3600
        same kv key put blob $how --remote --path blob
        same kv key put dated v $how --remote --expiration $(($(date +%s) + 7200))
        same kv key get k $how --remote
        same kv key get m $how --remote --text
        same kv key get blob $how --remote
        same kv key list $how --remote
        same kv key list $how --remote --prefix m
        same kv key delete k $how --remote
        same kv bulk put items.json $how --remote
        same kv bulk get keys.json $how --remote
        same kv key list $how --remote
        same kv bulk delete keys.json $how --remote
        same kv bulk delete keys.json $how --remote --force
        same kv bulk get keys.json $how --remote
    }
done
pass "key put, get, list, delete and bulk put, get, delete: the same output, by id and by binding"

# ---- errors ------------------------------------------------------------------------------------
U=0123456789abcdef0123456789abcdef
same kv key put short v --namespace-id "$NS" --remote --ttl 10
same kv key list --namespace-id $U --remote
same kv bulk put items.json --namespace-id $U --remote
same kv bulk get nofile.json --namespace-id "$NS" --remote
same kv bulk put bad.json --namespace-id "$NS" --remote
same kv bulk get bad.json --namespace-id "$NS" --remote
same kv key get --namespace-id "$NS" --remote
same kv key list --remote
same kv key list --remote --binding PREFS --namespace-id "$NS"
same kv key list --remote --bogus --namespace-id "$NS"
same kv key put k --namespace-id "$NS" --remote
same kv key list --binding NOPE --remote
same kv key list --binding BOTH --remote
same kv key list --binding BOTH --remote --preview false
mkdir "$H/aside" # not a parent of $CWD: wrangler looks for its configuration up the tree
mv "$CWD/wrangler.jsonc" "$H/aside/"
same kv key list --binding PREFS --remote
mv "$H/aside/wrangler.jsonc" "$CWD/"
# The one known difference: a missing key's status text.
(cd "$CWD" && wrangler kv key get gone --namespace-id "$NS" --remote >/dev/null 2>"$H/w.err") &&
    fail "wrangler found 'gone'"
(cd "$CWD" && "$EKV" kv key get gone --namespace-id "$NS" >/dev/null 2>"$H/e.err") &&
    fail "edgekv found 'gone'"
grep -q "^✘ \[ERROR\] Failed to fetch $API/$NS/values/gone - 404: Error);\$" \
    <(sed 's/\x1b\[[0-9;]*m//g' "$H/w.err") ||
    fail "wrangler's 404: $(cat "$H/w.err")"
grep -q "^✘ \[ERROR\] Failed to fetch $API/$NS/values/gone - 404: Not Found\$" "$H/e.err" ||
    fail "edgekv's 404: $(cat "$H/e.err")"
pass "errors: the API's, the files', the flags' and the configuration's, as wrangler prints them"

echo "$COMPARED commands compared; $PASSED passed"
