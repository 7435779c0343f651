# coordinator.transport (tcp or epgm) in topology.yaml: defaults, values and every mistake.
ekv_add_unit_test(topology_transport SOURCES unit/topology_transport_test.c LIBS ekv_topology)
