# The topology's coordinator.durability reaches the coordinator `edgekv up` starts
# (topology_durability_test.sh).
ekv_script_test(integration.topology_durability integration/topology_durability_test.sh TIMEOUT 120)
