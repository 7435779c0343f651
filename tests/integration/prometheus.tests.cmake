# Issue 27's Prometheus test (prometheus_test.sh): Debian's prometheus scrapes a small kv world
# through the file_sd targets file of `edgekv up` and reports every process up and the KV
# counters the test's reads and writes made. Skipped only without the prometheus binary.
add_test(NAME integration.prometheus
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/prometheus_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.prometheus PROPERTIES LABELS integration TIMEOUT 120
                     SKIP_RETURN_CODE 77)
