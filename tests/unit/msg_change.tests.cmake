# The wire codec's tests, in two programs sharing their samples and helpers (msg_samples.c):
# msg_test (registered with ekv_proto's unit tests) and msg_change_test (the CHANGE paths:
# catch-up from stored bodies, commit stamping, heads, the checksum).
target_sources(msg_test PRIVATE ${CMAKE_CURRENT_SOURCE_DIR}/unit/msg_samples.c)
ekv_add_unit_test(msg_change SOURCES unit/msg_change_test.c unit/msg_samples.c LIBS ekv_proto)
