# shellcheck shell=bash
# Shared by the recovery_*_test.sh tests, sourced after lib.sh.
#
# A topology file cannot set the coordinator's change-log retention or durability, so these
# tests run `edgekv` from a private bin folder: a copy of edgekv (it starts the programs
# beside its own executable), edgekv-node linked, and edgekv-coordinator a script that execs
# the real one (same pid) with the words of $EDGEKV_HOME/coordinator.args appended. That file
# is read at every start, so a restart can run with other options.
mkdir -p "$EDGEKV_HOME/bin"
cp "$BIN/edgekv" "$EDGEKV_HOME/bin/edgekv"
ln -s "$BIN/edgekv-node" "$EDGEKV_HOME/bin/edgekv-node"
cat >"$EDGEKV_HOME/bin/edgekv-coordinator" <<EOF
#!/bin/sh
extra=\$(cat "$EDGEKV_HOME/coordinator.args" 2>/dev/null)
# shellcheck disable=SC2086 # one option a word
exec "$BIN/edgekv-coordinator" "\$@" \$extra
EOF
chmod +x "$EDGEKV_HOME/bin/edgekv-coordinator"
: >"$EDGEKV_HOME/coordinator.args"
EKV="$EDGEKV_HOME/bin/edgekv"

NS=00000000000000000000000000000000
API="/client/v4/accounts/0123456789abcdef0123456789abcdef/storage/kv/namespaces"

# coordinator_args WORDS...: the options of the coordinator's next start.
coordinator_args() { echo "$*" >"$EDGEKV_HOME/coordinator.args"; }

# up TOPOLOGY: starts it and sets C, CPID (coordinator) and, per PoP, URL_<name>, PID_<name>.
up() {
    "$EKV" up "$1" >"$EDGEKV_HOME/up.out" 2>&1 || fail "up: $(cat "$EDGEKV_HOME/up.out")"
    refresh_status
}
refresh_status() {
    local name
    "$EKV" status --json >"$EDGEKV_HOME/status.json" || fail "status --json"
    C=$(jq -r '.coordinator.url' "$EDGEKV_HOME/status.json")
    # shellcheck disable=SC2034 # used by the tests
    CPID=$(jq -r '.coordinator.pid' "$EDGEKV_HOME/status.json")
    for name in $(jq -r '.pops[].name' "$EDGEKV_HOME/status.json"); do
        printf -v "URL_$name" '%s' "$(jq -r --arg n "$name" '.pops[] | select(.name == $n) | .url' \
            "$EDGEKV_HOME/status.json")"
        printf -v "PID_$name" '%s' "$(jq -r --arg n "$name" '.pops[] | select(.name == $n) | .pid' \
            "$EDGEKV_HOME/status.json")"
    done
}

# bulk_put FILE: a REST bulk write to the default namespace that must succeed.
bulk_put() {
    rest PUT "/$NS/bulk" "$1"
    [ "$CODE" = 200 ] && jq -e '.success and (.result.unsuccessful_keys | length) == 0' \
        <<<"$BODY" >/dev/null || fail "bulk write $1: $CODE $(head -c 300 <<<"$BODY")"
}

# bulk_delete FILE: a REST bulk delete (a JSON array of keys) that must succeed.
bulk_delete() {
    rest POST "/$NS/bulk/delete" "$1"
    [ "$CODE" = 200 ] && jq -e .success <<<"$BODY" >/dev/null ||
        fail "bulk delete $1: $CODE $(head -c 300 <<<"$BODY")"
}

# seq_of URL: the coordinator's latest sequence.
coord_seq() { curl -sf --max-time 5 "$C/health" | jq -r .seq; }

# wait_applied POP_URL SEQ TENTHS: until the PoP has applied every change up to SEQ.
wait_applied() {
    poll_applied "$1" "$2" "$3" && return 0
    echo "applied_seq $APPLIED, want $2" >&2
    return 1
}

# reads BEFORE AFTER PREFIX FROM TO: reads BEFORE<PREFIX><i>AFTER for i in FROM..TO, one line
# each: "200 VALUE" or the status alone (the body of an error is left out).
reads() {
    local urls=() i
    for i in $(seq "$4" "$5"); do
        urls+=("$1$3$i$2")
    done
    curl -s --max-time 30 -w $'\037%{http_code}\036' "${urls[@]}" |
        awk 'BEGIN { RS = "\036"; FS = "\037" } { print ($2 == 200 ? $2 " " $1 : $2) }'
}
# pop_reads POP_URL PREFIX FROM TO, coord_reads PREFIX FROM TO: reads through the binding
# (default namespace) and through the REST API.
pop_reads() { reads "$1/" '?urlencoded=true' "$2" "$3" "$4"; }
coord_reads() { reads "$C$API/$NS/values/" '' "$1" "$2" "$3"; }

# expect POP_URL PREFIX FROM TO WANT WHAT: every key reads WANT-<i> (200), or 404 when WANT
# is -; fails with WHAT and the first differences.
expect() {
    local got want
    if [ "$5" = - ]; then
        want=$(seq "$3" "$4" | sed 's/.*/404/')
    else
        want=$(seq "$3" "$4" | sed "s/.*/200 $5-&/")
    fi
    got=$(pop_reads "$1" "$2" "$3" "$4")
    [ "$got" = "$want" ] || fail "$6: $1 $2$3..$2$4 want ${5}: $(diff <(echo "$want") \
        <(echo "$got") | grep '^>' | head -5 | tr '\n' ' ')"
}

# verify_ok WHAT: `edgekv verify` must pass, sampling up to 5000 entries a PoP (all of them
# here); its output in $EDGEKV_HOME/verify.out.
verify_ok() {
    "$EKV" verify --samples 5000 >"$EDGEKV_HOME/verify.out" 2>&1 ||
        fail "edgekv verify $*: $(tail -15 "$EDGEKV_HOME/verify.out")"
}
