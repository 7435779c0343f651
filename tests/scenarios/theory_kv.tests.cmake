# The kv world against its theory (docs/consistency.md, "What a reader sees"): reader PoPs
# behind one regional tier, t-visibility within 3 points of the model at every bin, with and
# without refresh-ahead (timing-sensitive: run alone). kv_predict evaluates the model.
add_executable(kv_predict scenarios/kv_predict.c)
target_link_libraries(kv_predict PRIVATE ekv_analysis)
set_target_properties(kv_predict PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
ekv_script_test(scenario.theory_kv scenarios/theory_kv_test.sh TIMEOUT 600 RUN_SERIAL
                ARGS $<TARGET_FILE:kv_predict>)
