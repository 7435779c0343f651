# A use-case experiment end to end (usecase_test.sh): key groups with a counter and per-client
# sessions, clients re-routed between three PoPs under kv, `edgekv run --check` passing its
# assertions; results.json holds the checkers' counts and counterexamples, and the lost
# updates equal the acknowledged increments (counted from the history CSV) minus the final
# values read from the coordinator. It times cache lifetimes: it runs alone.
# Its assertions are counts (lost updates, 429s, violations > 0), not times: it may run beside
# other tests.
ekv_script_test(integration.usecase integration/usecase_test.sh TIMEOUT 180)
