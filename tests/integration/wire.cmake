# Garbage on every ZeroMQ socket of both daemons is dropped and counted, and they keep serving
# (wire_test.sh; wire_inject.c sends the messages and plays a fake coordinator for one PoP).
add_executable(wire_inject integration/wire_inject.c)
target_link_libraries(wire_inject PRIVATE ekv_proto PkgConfig::ZMQ)
set_target_properties(wire_inject PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME integration.wire
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/wire_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR} $<TARGET_FILE:wire_inject>)
set_tests_properties(integration.wire PROPERTIES LABELS integration TIMEOUT 120)
