# Slow, idle, surplus and oversized HTTP clients against both daemons (common/ekv_http.c).
# It times deadlines to within a second: it runs alone.
add_test(NAME integration.http_limits
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/http_limits_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.http_limits
                     PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE)
