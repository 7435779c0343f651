# Issue 28's `edgekv dev` (dev_test.sh): unmodified Workers (ES modules, service-worker syntax,
# TypeScript) in workerd at PoPs of the shipped kv world, staleness at a second PoP until its
# cacheTtl, request.cf, reload on save, Ctrl-C, and every bad input's message. It needs Node.js
# and npm packages (installed on first use), like the other compat tests, and times cache
# lifetimes: it runs alone.
ekv_script_test(compat.dev compat/dev_test.sh TIMEOUT 600 RUN_SERIAL)

# edgekv dev's reading of wrangler configurations (sim/dev/config.test.mjs, node's test runner):
# each format, and the file:line of every problem. A second or two, no world.
add_test(NAME compat.dev_config
         COMMAND ${BASH} -c ". scripts/lib/node.sh && ekv_use_node && node --test sim/dev/config.test.mjs"
         WORKING_DIRECTORY ${PROJECT_SOURCE_DIR})
set_tests_properties(compat.dev_config PROPERTIES LABELS compat TIMEOUT 300)
