# The kv policy as users of two PoPs see it (kv_policy_test.sh): cached copies, found and not
# found, and lists served until their cacheTtl after a write elsewhere; look; refresh-ahead;
# served visibility. It times cache lifetimes: it runs alone.
add_test(NAME integration.kv_policy
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/kv_policy_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.kv_policy PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)
