# Bad input never takes a PoP down (badinput_node_test.sh): keys, prefixes, query values,
# namespace headers, bulk-get bodies and stored records that are not UTF-8 or not text get the
# KV-SPEC status, valid JSON and a reply head without control bytes. badinput_node_seed writes
# the records no client can write today into the coordinator's folder before it starts.
add_executable(badinput_node_seed integration/badinput_node_seed.c)
target_link_libraries(badinput_node_seed PRIVATE ekv_coordinator)
set_target_properties(badinput_node_seed PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                                                    ${CMAKE_BINARY_DIR}/tests)
ekv_script_test(integration.badinput_node integration/badinput_node_test.sh TIMEOUT 300
                ARGS $<TARGET_FILE:badinput_node_seed>)
