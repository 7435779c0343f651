# Fan-out benchmarks beside their peers (run by scripts/bench/fanout and scripts/bench/redis,
# never by ctest: timings are not tests).
#   fanout_floor  bare libzmq: one PUB process, N SUB processes (the floor of edgekv's fan-out)
#   fanout_load   paced REST writer + collector of every PoP's visibility records
#   redis_bench   the same writer and measurements against a Redis primary and N replicas
add_executable(fanout_floor bench/fanout_floor.c)
target_link_libraries(fanout_floor PRIVATE PkgConfig::ZMQ)
add_executable(fanout_load bench/fanout_load.c)
target_link_libraries(fanout_load PRIVATE PkgConfig::LIBEVENT PkgConfig::JANSSON)
set(EKV_PEER_BENCHES fanout_floor fanout_load)
pkg_check_modules(HIREDIS IMPORTED_TARGET hiredis)
if(HIREDIS_FOUND)
    add_executable(redis_bench bench/redis_bench.c)
    target_link_libraries(redis_bench PRIVATE PkgConfig::HIREDIS PkgConfig::LIBEVENT
                          PkgConfig::JANSSON)
    list(APPEND EKV_PEER_BENCHES redis_bench)
endif()
foreach(b fanout_floor fanout_load redis_bench)
    if(TARGET ${b})
        target_include_directories(${b} PRIVATE ${PROJECT_SOURCE_DIR}/common)
    endif()
endforeach()
set_target_properties(${EKV_PEER_BENCHES} PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                      ${CMAKE_BINARY_DIR}/bench)
