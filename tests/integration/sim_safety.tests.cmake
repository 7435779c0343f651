# The edgekv CLI against stale state files and planted symbolic links (sim_safety_test.sh).
add_test(NAME integration.sim_safety
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/sim_safety_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.sim_safety PROPERTIES LABELS integration TIMEOUT 180)
