# Fuzz targets: replayed from their committed corpus on every run.
#
# With clang, ekv_add_fuzz_target (cmake/EkvHelpers.cmake) instruments only the target's own
# sources, so the code under test, which lives in the project's static libraries, would give
# libFuzzer no coverage and the sanitizers nothing to check. ekv_fuzz_target therefore links
# each NAME_fuzz binary against instrumented copies of those libraries (LIB_fuzzinst, built
# with -fsanitize=fuzzer-no-link,address,undefined from the same sources), and makes every
# undefined-behaviour report fatal so that libFuzzer records it as a crash. The replay
# binaries and the daemons keep the ordinary libraries.

set(EKV_FUZZ_SANITIZE -fsanitize=address,undefined -fno-sanitize-recover=undefined)

# Sets out_var to an instrumented copy of lib when lib is one of the project's static
# libraries (its project-library dependencies copied the same way), else to lib itself.
function(ekv_fuzz_instrumented lib out_var)
    set(${out_var} ${lib} PARENT_SCOPE)
    if(NOT TARGET ${lib})
        return()
    endif()
    get_target_property(type ${lib} TYPE)
    get_target_property(dir ${lib} SOURCE_DIR)
    string(FIND "${dir}" "${PROJECT_SOURCE_DIR}" at)
    if(NOT type STREQUAL "STATIC_LIBRARY" OR NOT at EQUAL 0)
        return()
    endif()
    set(clone ${lib}_fuzzinst)
    if(NOT TARGET ${clone})
        get_target_property(srcs ${lib} SOURCES)
        set(abs)
        foreach(s IN LISTS srcs)
            if(IS_ABSOLUTE "${s}")
                list(APPEND abs "${s}")
            else()
                list(APPEND abs "${dir}/${s}")
            endif()
        endforeach()
        add_library(${clone} STATIC ${abs})
        target_compile_options(${clone} PRIVATE -fsanitize=fuzzer-no-link ${EKV_FUZZ_SANITIZE})
        foreach(prop INCLUDE_DIRECTORIES COMPILE_DEFINITIONS COMPILE_OPTIONS)
            get_target_property(v ${lib} ${prop})
            if(v)
                set_property(TARGET ${clone} APPEND PROPERTY ${prop} ${v})
            endif()
        endforeach()
        get_target_property(v ${lib} INTERFACE_INCLUDE_DIRECTORIES)
        if(v)
            target_include_directories(${clone} INTERFACE ${v})
        endif()
        get_target_property(deps ${lib} LINK_LIBRARIES)
        set(mapped)
        foreach(d IN LISTS deps)
            if(d)
                ekv_fuzz_instrumented(${d} m)
                list(APPEND mapped ${m})
            endif()
        endforeach()
        target_link_libraries(${clone} PUBLIC ${mapped})
    endif()
    set(${out_var} ${clone} PARENT_SCOPE)
endfunction()

# ekv_fuzz_target(NAME SOURCES src... LIBS lib... CORPUS dir): ekv_add_fuzz_target, with the
# clang binary linked against instrumented libraries.
function(ekv_fuzz_target name)
    cmake_parse_arguments(F "" "CORPUS" "SOURCES;LIBS" ${ARGN})
    ekv_add_fuzz_target(${name} SOURCES ${F_SOURCES} LIBS ${F_LIBS} CORPUS ${F_CORPUS})
    if(TARGET ${name}_fuzz)
        set(libs)
        foreach(l IN LISTS F_LIBS)
            ekv_fuzz_instrumented(${l} m)
            list(APPEND libs ${m})
        endforeach()
        set_property(TARGET ${name}_fuzz PROPERTY LINK_LIBRARIES ${libs})
        target_compile_options(${name}_fuzz PRIVATE -fno-sanitize-recover=undefined)
    endif()
endfunction()

ekv_fuzz_target(msg SOURCES fuzz/msg_fuzz.c LIBS ekv_proto
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/msg)

# ekv_fuzz_targets(LIB NAME...): ekv_fuzz_target NAME for each, fuzz/NAME_fuzz.c against LIB,
# its corpus in fuzz/corpus/NAME.
function(ekv_fuzz_targets lib)
    foreach(name IN LISTS ARGN)
        ekv_fuzz_target(${name} SOURCES fuzz/${name}_fuzz.c LIBS ${lib}
                        CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/${name})
    endforeach()
endfunction()
ekv_fuzz_targets(ekv_proto cursor key)
ekv_fuzz_targets(ekv_topology topology experiment)
ekv_fuzz_targets(ekv_coord_logic multipart bulk)
ekv_fuzz_targets(ekv_node_logic zygote)
ekv_fuzz_targets(ekv_common cpulist)
