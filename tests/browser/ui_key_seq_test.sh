#!/usr/bin/env bash
# The watched key's newest version (issue 27): edgekv ui's `world` event says which version of
# the watched key the coordinator holds (key_seq) and whether the write it follows is of that
# key (wave_watched), so the page never compares the key's versions with another key's write.
# A push-all world at time scale 20 (a, b, c), the key k watched from the start:
#   elsewhere  k written straight at a (curl, not the page): every node serves it, key_seq is
#              its version and the followed write is of k;
#   other key  then l written straight at b: the write is followed, but key_seq stays k's
#              version, wave_watched is false, wave_other is true, and every node keeps k's
#              version (the page colours them by key_seq: none turns "older");
#   watch      watching l: key_seq becomes l's version (asked of the coordinator), and the
#              followed write (l's) is of the watched key now;
#   page       a write of k from the page: key_seq is its version at once;
#   delete     k deleted straight at a: key_seq 0 (the coordinator has none), and the write
#              is not called another key's (it was k's);
#   no page    k written at a while no stream is open (the coordinator is not asked): its
#              version is asked for, and known, once a stream opens.
# Usage: ui_key_seq_test.sh BIN_DIR SRC_DIR
set -euo pipefail
source "$2/tests/integration/lib.sh" "$1" "$2"
H=$EDGEKV_HOME
source "$2/tests/browser/ui_lib.sh"

ekv_topology "$H/w.yaml" policy=push-all time_scale=20 write_rate_limit=0 \
    a:-:Frankfurt 'b:-:New York' c:-:Sydney
"$EKV" up "$H/w.yaml" >"$H/up.log" 2>&1 || fail "up: $(cat "$H/up.log")"
A=$(jq -r '.pops[] | select(.name == "a") | .url' "$H/state.json")
B=$(jq -r '.pops[] | select(.name == "b") | .url' "$H/state.json")
start_ui --key k
open_events 60

last_world() { grep -A1 '^event: world' "$H/events" | sed -n 's/^data: //p' | tail -1; }
# nodes_at SEQ: how many nodes, in their last state on the stream, serve SEQ fresh
nodes_at() {
    grep '^data: {"now_us"' "$H/events" | sed 's/^data: //' | jq -s --argjson s "$1" '
        [.[].nodes[]] | group_by(.id) | map(last)
        | map(select(.seq == $s and .state == "fresh")) | length'
}
# until_world JQ WHAT: waits up to 10 s for the last world event to satisfy JQ
until_world() {
    for _ in $(seq 1 100); do
        last_world | jq -e "$1" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    fail "$2: $(last_world)"
}
# put URL KEY VALUE: writes through a PoP's binding, prints the version
put() {
    curl -sf -D - -o /dev/null -X PUT --data-binary "$3" "$1/$2?urlencoded=true" |
        tr -d '\r' | sed -n 's/^[Xx]-[Ee]dgekv-[Vv]ersion: //p'
}

# ---- a write of the watched key made elsewhere -------------------------------------------
sleep 0.5 # the stream's first events, and the detector's first wait
SK=$(put "$A" k v1)
[ -n "$SK" ] || fail "PUT k at a gave no version"
until_world ".wave_seq == $SK and .key_seq == $SK and .wave_watched == true" \
    "the write of k at a ($SK) is not known as k's"
for _ in $(seq 1 100); do [ "$(nodes_at "$SK")" = 3 ] && break; sleep 0.1; done
[ "$(nodes_at "$SK")" = 3 ] || fail "not every node serves k $SK: $(tail -c 600 "$H/events")"
pass "a write of k made at a ($SK): key_seq and wave_watched say it is k's; every node has it"

# ---- a write of another key made elsewhere ------------------------------------------------
SL=$(put "$B" l other)
[ -n "$SL" ] && [ "$SL" -gt "$SK" ] || fail "PUT l at b: version '$SL'"
until_world ".wave_seq == $SL and .wave_other == true" \
    "the write of l at b ($SL) is not followed as another key's"
last_world | jq -e --argjson k "$SK" '.key == "k" and .key_seq == $k and .wave_watched == false' \
    >/dev/null || fail "after a write of l, key_seq is not k's version $SK: $(last_world)"
sleep 0.5 # the looks after l's arrivals
[ "$(nodes_at "$SK")" = 3 ] || fail "a write of l changed what the nodes serve of k"
pass "a write of l ($SL) is followed, key_seq stays k's $SK, wave_watched false, wave_other true"

# ---- watching the other key ---------------------------------------------------------------
[ "$(curl -s -o /dev/null -w '%{http_code}' -X POST "$U/api/watch?key=l")" = 200 ] || fail "watch l"
until_world ".key == \"l\" and .key_seq == $SL and .wave_watched == true and .wave_other == false" \
    "watching l does not give its version $SL"
pass "watching l: key_seq is l's version ($SL), and the followed write is of it"

# ---- a write from the page ---------------------------------------------------------------
[ "$(curl -s -o "$H/body" -w '%{http_code}' -X POST "$U/api/write?key=k&value=v2&via=c")" = 202 ] ||
    fail "write from the page: $(cat "$H/body")"
until_world ".key == \"k\" and .wave_from == \"c\" and .wave_seq > $SL and .key_seq == .wave_seq
    and .wave_watched == true" "a write of k from the page does not set key_seq"
pass "a write of k from the page: key_seq is its version ($(last_world | jq .key_seq))"

# ---- a delete of the watched key made elsewhere ------------------------------------------
SP=$(last_world | jq .wave_seq)
curl -sf -o /dev/null -X DELETE "$A/k?urlencoded=true" || fail "DELETE k at a"
until_world ".wave_seq > $SP and .key_seq == 0" "the delete of k leaves key_seq"
sleep 0.3 # the coordinator was asked after the delete: no other answer comes
last_world | jq -e '.wave_other == false and .wave_watched == false' >/dev/null ||
    fail "a delete of k passes for another key's write: $(last_world)"
pass "a delete of k made at a: key_seq 0, and the write is not called another key's"

# ---- no page open ------------------------------------------------------------------------
# the server asks the coordinator only while a page is open, and when one comes
close_events
sleep 0.3 # the server sees the stream go
S2=$(put "$A" k v3)
[ -n "$S2" ] || fail "PUT k at a gave no version"
sleep 0.5
open_events 60
until_world ".wave_seq == $S2 and .key_seq == $S2 and .wave_watched == true" \
    "a write of k made while no page was open is not known as k's when one comes"
pass "a write of k made with no page open ($S2): known as k's once a page comes"

stop_ui
echo "$PASSED passed"
