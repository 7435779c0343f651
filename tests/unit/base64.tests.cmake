# Base64 in both alphabets (common/ekv_base64): bulk values, list cursors, keys that are not
# UTF-8, the CLI's bulk files.
ekv_add_unit_test(base64 SOURCES unit/base64_test.c LIBS ekv_common)
