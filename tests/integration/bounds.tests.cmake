# What a peer can make the coordinator hold is bounded: oversized ROUTER frames, the commit
# queue (503 busy), paced catch-up replies (BUSY, asked again).
add_test(NAME integration.bounds
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/bounds_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR} $<TARGET_FILE:wire_inject>)
set_tests_properties(integration.bounds PROPERTIES LABELS integration TIMEOUT 300)
