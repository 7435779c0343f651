# The daemons' security settings (common/ekv_sec): the EDGEKV_* variables and their messages,
# the loopback rule and its refusals, the ZAP handler admitting only the world's client key
# (real CURVE sockets in one process).
ekv_add_unit_test(sec SOURCES unit/sec_test.c LIBS ekv_zev)
