# Scenarios: measurements that must agree with theory (timing-sensitive: run alone).
add_test(NAME scenario.theory
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/scenarios/theory_test.sh ${CMAKE_BINARY_DIR}/bin
                 ${PROJECT_SOURCE_DIR})
set_tests_properties(scenario.theory PROPERTIES LABELS scenario TIMEOUT 600 RUN_SERIAL TRUE)
