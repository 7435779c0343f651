# The seeded random draws shared by the load generator and the link model (common/ekv_rand).
ekv_add_unit_test(rand SOURCES unit/rand_test.c LIBS ekv_common)
