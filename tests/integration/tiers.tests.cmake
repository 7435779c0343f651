# Regional tiers as processes (tiers_test.sh): `edgekv up` of two tiers and four kv PoPs; misses
# through the tier, tier hits, copies lagging by the PoP's and the tier's cacheTtl, purge on
# write, tier outages (stop, kill, restart) and status. It times cache lifetimes: it runs alone.
ekv_script_test(integration.tiers integration/tiers_test.sh TIMEOUT 180 RUN_SERIAL)
