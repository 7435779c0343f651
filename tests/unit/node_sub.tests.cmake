# A PoP's subscription over a lossy transport, through its real sockets on 127.0.0.1: stamps far
# ahead dropped and caught up, none holding the delay line; a silent SUB reopened.
ekv_add_unit_test(node_sub SOURCES unit/node_sub_test.c LIBS ekv_node PkgConfig::ZMQ)
