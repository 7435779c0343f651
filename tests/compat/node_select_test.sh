#!/usr/bin/env bash
# Which Node.js the compatibility scripts (tests/compat/run.sh, tests/compat-workerd/run.sh) run:
# the machine's when it is >= 20, else the build scripts/setup cached (scripts/lib/node.sh), and
# neither (with a hint to run scripts/setup) when the machine's is older and nothing is cached.
# Stand-in node and npm programs record how they are called; nothing is fetched or started.
# Usage: node_select_test.sh SRC_DIR
set -euo pipefail
SRC=$(cd "$1" && pwd)
T=$(mktemp -d /tmp/edgekv-node-select.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASSED=0
FAILED=0
pass() { echo "ok: $*"; PASSED=$((PASSED + 1)); }
fail() { echo "FAIL: $*" >&2; FAILED=$((FAILED + 1)); }

export LOG=$T/calls.log
# fake_node FILE NAME VERSION: a node that answers the version query and records any other call.
fake_node() {
    mkdir -p "$(dirname "$1")"
    cat >"$1" <<EOF
#!/bin/sh
if [ "\$1" = -p ] && [ "\$2" = process.versions.node ]; then echo $3; exit 0; fi
echo "$2 \$*" >>"\$LOG"
exit 97
EOF
    chmod +x "$1"
}
# npm records the node that comes first on PATH when it runs (its own `#!/usr/bin/env node`).
mkdir -p "$T/path"
cat >"$T/path/npm" <<'EOF'
#!/bin/sh
echo "npm $* (node $(node -p process.versions.node))" >>"$LOG"
EOF
chmod +x "$T/path/npm"
# Programs the workerd script checks for before it looks for node.
mkdir -p "$T/bin"
for b in edgekv edgekv-node edgekv-coordinator; do
    printf '#!/bin/sh\nexit 1\n' >"$T/bin/$b"
    chmod +x "$T/bin/$b"
done

export EDGEKV_CACHE=$T/cache
CACHED_DIR=$(bash -c '. "$1/scripts/lib/node.sh"; echo "$EKV_NODE_DIR"' _ "$SRC")
CACHED_VERSION=$(bash -c '. "$1/scripts/lib/node.sh"; echo "$EKV_NODE_VERSION"' _ "$SRC")

# run_case MACHINE_VERSION CACHED(yes|no): runs both scripts with that machine node first on
# PATH; leaves their exit codes in RC_REST and RC_WORKERD, stderr in $T/err.*, calls in $LOG.
run_case() {
    rm -rf "$EDGEKV_CACHE" "$LOG"
    fake_node "$T/path/node" machine "$1"
    [ "$2" = no ] || fake_node "$CACHED_DIR/bin/node" cached "$CACHED_VERSION"
    : >"$LOG"
    RC_REST=0
    PATH="$T/path:$PATH" bash "$SRC/tests/compat/run.sh" "$T/bin" >"$T/out.rest" 2>"$T/err.rest" ||
        RC_REST=$?
    RC_WORKERD=0
    PATH="$T/path:$PATH" bash "$SRC/tests/compat-workerd/run.sh" "$T/bin" "$SRC" >"$T/out.workerd" \
        2>"$T/err.workerd" || RC_WORKERD=$?
}

# expect WHAT NAME: NAME (machine or cached) ran the REST suite and the workerd lookup, and the
# other node ran nothing.
expect() {
    local what=$1 want=$2 other=machine
    [ "$want" = machine ] && other=cached
    if [ "$RC_REST" = 97 ] && grep -q "^$want --test " "$LOG"; then
        pass "$what: the REST clients' suite runs on the $want node"
    else
        fail "$what: the REST clients' suite should run on the $want node (exit $RC_REST)"
    fi
    if [ "$RC_WORKERD" = 97 ] && grep -q "^$want -p require(\"workerd\")" "$LOG"; then
        pass "$what: the workerd script runs the $want node"
    else
        fail "$what: the workerd script should run the $want node (exit $RC_WORKERD)"
    fi
    if grep -q "^$other " "$LOG"; then
        fail "$what: the $other node ran: $(grep "^$other " "$LOG" | head -3)"
    else
        pass "$what: the $other node ran nothing"
    fi
    # When npm runs (node_modules missing or stale), it finds the same node first on PATH.
    local v
    v=$([ "$want" = machine ] && echo "$3" || echo "$CACHED_VERSION")
    if grep '^npm ' "$LOG" | grep -qv "(node $v)"; then
        fail "$what: npm ran with another node: $(grep '^npm ' "$LOG" | head -2)"
    else
        pass "$what: npm (if it ran) had node $v first on PATH"
    fi
}

run_case 18.20.4 yes
expect "Debian 12's node 18 and the cached build" cached 18.20.4

run_case 22.3.0 yes
expect "a machine node 22" machine 22.3.0

run_case 20.0.0 no
expect "a machine node 20.0 and nothing cached" machine 20.0.0

run_case 18.20.4 no
for s in rest workerd; do
    rc=RC_${s^^}
    if [ "${!rc}" = 2 ] && grep -q "scripts/setup" "$T/err.$s" && ! grep -q '^machine ' "$LOG"; then
        pass "node 18 and nothing cached: the $s script stops at once and names scripts/setup"
    else
        fail "node 18 and nothing cached: the $s script should stop (exit 2, naming" \
            "scripts/setup) before running node; exit ${!rc}: $(head -c 300 "$T/err.$s")"
    fi
done

echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
