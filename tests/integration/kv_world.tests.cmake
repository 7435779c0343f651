# Issue 25's "Done when" on the shipped default world (kv_world_test.sh): topology.yaml as
# shipped (kv, nine tiers, 28 PoPs) but for ephemeral ports and time_scale 10; fra serves its
# new value at once, lhr its cached old one until its cacheTtl and then the new one, as look and
# watch report. It times cache lifetimes on 38 processes: it runs alone.
ekv_script_test(integration.kv_world integration/kv_world_test.sh TIMEOUT 120 RUN_SERIAL)
