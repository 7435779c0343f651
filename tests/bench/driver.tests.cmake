# The arithmetic of the benchmarks (scripts/bench/driver.py): percentiles, medians, the
# sustained-rate ladder. Python 3 standard library, no daemon.
add_test(NAME unit.bench_driver
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/bench/driver_test.py ${PROJECT_SOURCE_DIR})
set_tests_properties(unit.bench_driver PROPERTIES LABELS unit TIMEOUT 60)
