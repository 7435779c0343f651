# Issue 28's examples/ (examples_test.sh): every example Worker through `edgekv dev` at fra and
# lhr of the shipped kv world, checked against its README: the stale window at the second PoP
# and how the pattern copes (or, for the rate limiter, the lost increments and the binding's
# 429s). It needs Node.js and npm packages like compat.dev and times cache lifetimes: it runs
# alone.
add_test(NAME compat.examples
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/compat/examples_test.sh ${CMAKE_BINARY_DIR}/bin
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(compat.examples PROPERTIES LABELS compat TIMEOUT 300 RUN_SERIAL TRUE)
