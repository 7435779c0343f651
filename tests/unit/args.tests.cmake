# Strict command-line values (common/ekv_args): HOST:PORT, numbers in range, names; what the
# daemons' option tables check --http and the like with.
ekv_add_unit_test(args SOURCES unit/args_test.c LIBS ekv_common)
