# The wall clock's skew (common/ekv_time, --clock-skew-ms): ekv_now_us moves by it, the
# monotonic clock does not.
ekv_add_unit_test(time SOURCES unit/time_test.c LIBS ekv_common)
