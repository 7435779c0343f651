#!/usr/bin/env bash
# Compatibility tests: real Cloudflare clients (the `cloudflare` SDK and wrangler, versions pinned
# in package-lock.json) against a private edgekv-coordinator.
# Usage: tests/compat/run.sh [BIN_DIR]   (BIN_DIR holds edgekv-coordinator; default ../../build/bin)
set -euo pipefail
if [ $# -ge 1 ]; then
    EDGEKV_BIN=$(cd "$1" && pwd) # absolute, resolved from the caller's directory
    export EDGEKV_BIN
fi
cd "$(dirname "${BASH_SOURCE[0]}")"
# wrangler and the SDK suite need Node.js >= 20: the machine's, or the one scripts/setup cached.
# shellcheck source-path=SCRIPTDIR
. ../../scripts/lib/node.sh
ekv_use_node || exit 2

if [ ! -d node_modules ] || [ ! -f node_modules/.package-lock.json ] \
    || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund
fi

node --test --test-concurrency=1 *.test.mjs
