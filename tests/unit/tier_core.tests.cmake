# Regional tiers in the node's core: a tier's ROUTER answering a PoP's DEALER, purge on write,
# and a PoP's tier read counters (tier_core_test.c).
ekv_add_unit_test(tier_core SOURCES unit/tier_core_test.c LIBS ekv_node)
