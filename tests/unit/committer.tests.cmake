# The coordinator's group commit (coordinator/committer): the wait rule, groups and sequence
# numbers, publish before acknowledge, durability modes and a failed commit, on a real store.
ekv_add_unit_test(committer SOURCES unit/committer_test.c LIBS ekv_coordinator)
