# Issue 28's examples/ (examples_test.sh): every example Worker through `edgekv dev` at fra and
# lhr of the shipped kv world, checked against its README: the stale window at the second PoP
# and how the pattern copes (or, for the rate limiter, the lost increments and the binding's
# 429s). It needs Node.js and npm packages like compat.dev and times cache lifetimes: it runs
# alone.
ekv_script_test(compat.examples compat/examples_test.sh TIMEOUT 300 RUN_SERIAL)
