# Which Node.js the npm compatibility scripts run (the machine's >= 20, else the one scripts/setup
# cached): stand-in node and npm programs, no network, a second or two.
add_test(NAME unit.compat_node_select
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/compat/node_select_test.sh
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(unit.compat_node_select PROPERTIES LABELS unit TIMEOUT 60)
