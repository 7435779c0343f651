# Bad input never takes the coordinator down (badinput_rest_test.sh): query values, keys,
# multipart metadata fields and stored bytes that are not UTF-8 or nest without bound get the
# KV-SPEC status in a valid JSON reply. badinput_rest_seed stores keys an older build could have.
add_executable(badinput_rest_seed integration/badinput_rest_seed.c)
target_link_libraries(badinput_rest_seed PRIVATE ekv_coordinator)
set_target_properties(badinput_rest_seed PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME integration.badinput_rest
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/badinput_rest_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR} $<TARGET_FILE:badinput_rest_seed>)
set_tests_properties(integration.badinput_rest PROPERTIES LABELS integration TIMEOUT 300)
