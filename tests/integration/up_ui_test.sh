#!/usr/bin/env bash
# `edgekv up --ui`: the world and its live page (`edgekv ui`) in one command. up prints the
# page's URL and records it (state.json, status, status --json); the page answers; down stops
# it with the world (its pid gone) and counts it; a bad --ui port or a second topology is a
# usage error (2) that starts nothing.
set -euo pipefail
source "$(dirname "$0")/lib.sh" "$1" "$2"

H=$EDGEKV_HOME
ekv_topology "$H/world.yaml" policy=kv a:-:Paris b:-:Rome

for bad in "--ui 70000" "--ui x y" "--bogus"; do
    # shellcheck disable=SC2086 # the words are the arguments
    rc=0 && "$EKV" up "$H/world.yaml" $bad >"$H/bad.out" 2>&1 || rc=$?
    [ "$rc" = 2 ] && grep -q '^usage: edgekv up \[TOPOLOGY\] \[--ui \[PORT\]\]' "$H/bad.out" ||
        fail "up $bad: status $rc, $(cat "$H/bad.out")"
done
[ ! -e "$H/state.json" ] || fail "a usage error started something"
pass "bad arguments to up are usage errors that start nothing"

"$EKV" up "$H/world.yaml" --ui >"$H/up.out" 2>&1 || fail "up --ui: $(cat "$H/up.out")"
URL=$(sed -n 's|^live page: \(http://127\.0\.0\.1:[0-9]*\)/ (docs/ui\.md)$|\1|p' "$H/up.out")
[ -n "$URL" ] || fail "up --ui printed no page: $(cat "$H/up.out")"
[ "$(jq -r .ui.url "$H/state.json")" = "$URL" ] || fail "state.json's ui: $(cat "$H/state.json")"
UIPID=$(jq -r .ui.pid "$H/state.json")
[ "$(curl -s -o /dev/null -w '%{http_code}' "$URL/")" = 200 ] || fail "the page at $URL"
curl -s "$URL/api/world" | jq -e '[.nodes[].name] == ["a", "b"]' >/dev/null ||
    fail "the page's world: $(curl -s "$URL/api/world")"
"$EKV" status | grep -q "^live page $URL/ (pid $UIPID)\$" || fail "status: $("$EKV" status)"
"$EKV" status --json | jq -e --arg u "$URL" '.ui.url == $u and .ui.running' >/dev/null ||
    fail "status --json: $("$EKV" status --json)"
pass "up --ui: the page runs at $URL, recorded and shown by status"

"$EKV" down >"$H/down.out" || fail "down: $(cat "$H/down.out")"
grep -q '^edgekv: stopped 4 processes$' "$H/down.out" || fail "down: $(cat "$H/down.out")"
gone "$UIPID" || fail "the page's server $UIPID outlived down"
pass "down stops the page with the world"
