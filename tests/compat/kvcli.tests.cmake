# `edgekv kv` beside the real wrangler 4 (kvcli_wrangler_test.sh): the same commands in the same
# folder against the same world print the same output and exit status, namespace, key and bulk
# commands, by --namespace-id and by --binding, and their errors. It needs Node.js and the npm
# packages of tests/compat (installed on first use); wrangler takes a second or two a call.
add_test(NAME compat.kvcli_wrangler
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/compat/kvcli_wrangler_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
# Not timed; it shares tests/compat's npm folder (npm ci on first use) with compat.rest_clients.
set_tests_properties(compat.kvcli_wrangler PROPERTIES LABELS compat TIMEOUT 600
                     RESOURCE_LOCK tests_compat_npm)
