# `edgekv kv` beside the real wrangler 4 (kvcli_wrangler_test.sh): the same commands in the same
# folder against the same world print the same output and exit status, namespace, key and bulk
# commands, by --namespace-id and by --binding, and their errors. It needs Node.js and the npm
# packages of tests/compat (installed on first use); wrangler takes a second or two a call.
# Not timed; it shares tests/compat's npm folder (npm ci on first use) with compat.rest_clients.
ekv_script_test(compat.kvcli_wrangler compat/kvcli_wrangler_test.sh TIMEOUT 600
                RESOURCE_LOCK tests_compat_npm)
