# ekv_add_unit_test(NAME SOURCES src... LIBS lib...)
#   Builds tests/unit/NAME_test from the given sources into build/tests and registers it with
#   ctest under the label "unit".
function(ekv_add_unit_test name)
    cmake_parse_arguments(T "" "" "SOURCES;LIBS" ${ARGN})
    add_executable(${name}_test ${T_SOURCES})
    target_link_libraries(${name}_test PRIVATE ${T_LIBS})
    target_include_directories(${name}_test PRIVATE ${PROJECT_SOURCE_DIR}/tests/unit)
    set_target_properties(${name}_test PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                          ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME unit.${name} COMMAND ${name}_test)
    set_tests_properties(unit.${name} PROPERTIES LABELS unit TIMEOUT 120)
endfunction()

# ekv_add_fuzz_target(NAME SOURCES src... LIBS lib... CORPUS dir)
#   With clang, builds a libFuzzer target NAME_fuzz (-fsanitize=fuzzer). With any compiler,
#   builds NAME_replay, which feeds every file of CORPUS to the same entry point, and registers
#   the replay with ctest (label "fuzz") so the committed corpus runs on every test run.
function(ekv_add_fuzz_target name)
    cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
    add_executable(${name}_replay ${F_SOURCES} ${PROJECT_SOURCE_DIR}/tests/fuzz/replay_main.c)
    target_link_libraries(${name}_replay PRIVATE ${F_LIBS})
    set_target_properties(${name}_replay PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                          ${CMAKE_BINARY_DIR}/tests)
    add_test(NAME fuzz.${name}.corpus COMMAND ${name}_replay ${F_CORPUS})
    set_tests_properties(fuzz.${name}.corpus PROPERTIES LABELS fuzz TIMEOUT 300)
    if(CMAKE_C_COMPILER_ID MATCHES "Clang")
        add_executable(${name}_fuzz ${F_SOURCES})
        target_compile_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
        target_link_options(${name}_fuzz PRIVATE -fsanitize=fuzzer,address,undefined)
        target_link_libraries(${name}_fuzz PRIVATE ${F_LIBS})
        set_target_properties(${name}_fuzz PROPERTIES RUNTIME_OUTPUT_DIRECTORY
                              ${CMAKE_BINARY_DIR}/fuzz)
    endif()
endfunction()
