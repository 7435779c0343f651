# The evhttp floor of a PoP's cached read: one evhttp answering every GET with the same 100
# bytes and a hit's headers (bench/evhttp_floor.c). Run by scripts/bench/node-read beside the
# PoP and nginx, never by ctest: timings are not tests.
add_executable(evhttp_floor bench/evhttp_floor.c)
target_link_libraries(evhttp_floor PRIVATE PkgConfig::LIBEVENT)
set_target_properties(evhttp_floor PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
