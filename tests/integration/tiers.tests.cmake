# Regional tiers as processes (tiers_test.sh): `edgekv up` of two tiers and four kv PoPs; misses
# through the tier, tier hits, copies lagging by the PoP's and the tier's cacheTtl, purge on
# write, tier outages (stop, kill, restart) and status. It times cache lifetimes: it runs alone.
add_test(NAME integration.tiers
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/tiers_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.tiers PROPERTIES LABELS integration TIMEOUT 180 RUN_SERIAL TRUE)
