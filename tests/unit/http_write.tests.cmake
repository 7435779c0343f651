# A reply the handler gives at once leaves in the loop turn that read the request, and the
# guard's keep-alive, close, pipelining and idle handling hold (common/ekv_http.c write_now).
ekv_add_unit_test(http_write SOURCES unit/http_write_test.c LIBS ekv_zev)
