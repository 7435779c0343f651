# The five-way table of scripts/bench/fanout and scripts/bench/redis (scripts/bench/five.py):
# percentiles, which edgekv column each uses, ratios, and "not run" for what was not measured.
add_test(NAME unit.bench_five
         COMMAND python3 ${CMAKE_CURRENT_SOURCE_DIR}/bench/five_test.py ${PROJECT_SOURCE_DIR})
set_tests_properties(unit.bench_five PROPERTIES LABELS unit TIMEOUT 60)
