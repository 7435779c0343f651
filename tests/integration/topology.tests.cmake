# The topology's coordinator.durability reaches the coordinator `edgekv up` starts
# (topology_durability_test.sh).
add_test(NAME integration.topology_durability
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/topology_durability_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.topology_durability PROPERTIES LABELS integration TIMEOUT 120)
