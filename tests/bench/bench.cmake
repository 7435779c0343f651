# Benchmark tools (run by scripts/bench/*, never by ctest: timings are not tests).
add_executable(coord_bench bench/coord_bench.c)
target_include_directories(coord_bench PRIVATE ${ROCKSDB_INCLUDE})
target_link_libraries(coord_bench PRIVATE ekv_proto ${ROCKSDB_LIB} PkgConfig::ZMQ)
set_target_properties(coord_bench PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/bench)
