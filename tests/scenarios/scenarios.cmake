# Scenarios: measurements that must agree with theory (timing-sensitive: run alone).
add_test(NAME scenario.theory
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/theory_test.sh ${CMAKE_BINARY_DIR}/bin
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(scenario.theory PROPERTIES LABELS scenario TIMEOUT 600 RUN_SERIAL TRUE)
# Faults end to end (docs/faults.md): a 30 s partition with stale-read reporting, PoPs killed
# and restarted while writes flow, and a 5-minute soak under random faults with memory checks.
foreach(t partition rejoin soak)
    add_test(NAME scenario.${t}
             COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/${t}_test.sh
                     ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
endforeach()
set_tests_properties(scenario.partition PROPERTIES LABELS scenario TIMEOUT 300 RUN_SERIAL TRUE)
set_tests_properties(scenario.rejoin PROPERTIES LABELS scenario TIMEOUT 300 RUN_SERIAL TRUE)
set_tests_properties(scenario.soak PROPERTIES LABELS scenario TIMEOUT 900 RUN_SERIAL TRUE)
