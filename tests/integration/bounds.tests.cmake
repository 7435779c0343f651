# What a peer can make the coordinator hold is bounded: oversized ROUTER frames, the commit
# queue (503 busy), paced catch-up replies (BUSY, asked again).
ekv_script_test(integration.bounds integration/bounds_test.sh TIMEOUT 300
                ARGS $<TARGET_FILE:wire_inject>)
