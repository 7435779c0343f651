# Garbage on every ZeroMQ socket of both daemons is dropped and counted, and they keep serving
# (wire_test.sh; wire_inject.c sends the messages and plays a fake coordinator for one PoP).
add_executable(wire_inject integration/wire_inject.c)
target_link_libraries(wire_inject PRIVATE ekv_proto PkgConfig::ZMQ)
set_target_properties(wire_inject PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
ekv_script_test(integration.wire integration/wire_test.sh TIMEOUT 120
                ARGS $<TARGET_FILE:wire_inject>)
