# End-to-end fuzzing of both HTTP servers (fuzz/http_fuzz.c): the same harness twice, each with
# the HTTP guard on a different server, as each daemon serves under a guard of its own.
ekv_fuzz_target(http_rest SOURCES fuzz/http_fuzz.c LIBS ekv_coordinator ekv_node
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/http-rest)
ekv_fuzz_target(http_node SOURCES fuzz/http_fuzz.c LIBS ekv_coordinator ekv_node
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/http-node)
foreach(t http_rest_replay http_rest_fuzz)
    if(TARGET ${t})
        target_compile_definitions(${t} PRIVATE HTTP_FUZZ_GUARDED='C')
    endif()
endforeach()
foreach(t http_node_replay http_node_fuzz)
    if(TARGET ${t})
        target_compile_definitions(${t} PRIVATE HTTP_FUZZ_GUARDED='P')
    endif()
endforeach()
