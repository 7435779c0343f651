# The PoP's core without HTTP or sockets: where it stands in the change stream (replica).
ekv_add_unit_test(replica SOURCES unit/replica_test.c LIBS ekv_node_logic)
ekv_add_unit_test(vis SOURCES unit/vis_test.c LIBS ekv_node_logic)
ekv_add_unit_test(node_core SOURCES unit/node_core_test.c LIBS ekv_node)
