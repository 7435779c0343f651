# Bad input never takes the coordinator down (badinput_rest_test.sh): query values, keys,
# multipart metadata fields and stored bytes that are not UTF-8 or nest without bound get the
# KV-SPEC status in a valid JSON reply. badinput_rest_seed stores keys an older build could have.
add_executable(badinput_rest_seed integration/badinput_rest_seed.c)
target_link_libraries(badinput_rest_seed PRIVATE ekv_coordinator)
set_target_properties(badinput_rest_seed PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
ekv_script_test(integration.badinput_rest integration/badinput_rest_test.sh TIMEOUT 300
                ARGS $<TARGET_FILE:badinput_rest_seed>)
