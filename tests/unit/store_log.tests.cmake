# The coordinator's store, what a PoP's catch-up relies on (store_log_test.c): the change log's
# read and trim rules, snapshot pages, a page's sequence while commits run, the epoch. What the
# store holds is unit.store (store_test.c, registered in tests/CMakeLists.txt).
ekv_add_unit_test(store_log SOURCES unit/store_log_test.c LIBS ekv_coordinator)
