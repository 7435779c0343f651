# The bare-libzmq fan-out floor over a transport named at run time (FLOOR_ENDPOINT, e.g.
# epgm://lo;239.192.0.9:7001): fanout_floor.c with its bind and connect renamed to those of
# bench/floor_transport.c (compiled apart, without the renaming). Run by scripts/bench/fanout
# and scripts/bench/redis, never by ctest: timings are not tests.
add_library(ekv_floor_transport OBJECT bench/floor_transport.c)
target_link_libraries(ekv_floor_transport PRIVATE PkgConfig::ZMQ)
add_executable(fanout_floor_epgm bench/fanout_floor.c $<TARGET_OBJECTS:ekv_floor_transport>)
target_compile_definitions(fanout_floor_epgm PRIVATE zmq_bind=ekv_floor_bind
                           zmq_connect=ekv_floor_connect)
target_include_directories(fanout_floor_epgm PRIVATE ${PROJECT_SOURCE_DIR}/common)
target_link_libraries(fanout_floor_epgm PRIVATE PkgConfig::ZMQ)
set_target_properties(fanout_floor_epgm PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/bench)
