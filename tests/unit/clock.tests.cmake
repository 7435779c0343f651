# The PoP's clock filter (node/clock): min-RTT over the last 8 samples, the exchange's pacing.
ekv_add_unit_test(clock SOURCES unit/clock_test.c LIBS ekv_node_logic)
