# Unit tests of the daemons' start-up helpers in common/: the table-driven option reader
# (ekv_opts) and the open-file limit (ekv_fdlimit).
ekv_add_unit_test(opts SOURCES unit/opts_test.c LIBS ekv_common)
ekv_add_unit_test(fdlimit SOURCES unit/fdlimit_test.c LIBS ekv_common)
