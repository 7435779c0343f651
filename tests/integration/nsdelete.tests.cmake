# Namespace deletion (nsdelete_test.sh): deleted under concurrent writes it leaves no orphans
# at the coordinator or the PoPs, and the default namespace comes back holding only later
# writes; a large deletion never lets the PoPs' heartbeats lapse; a deletion cut by kill -9 is
# finished after the restart. Timing-sensitive: it runs alone.
ekv_script_test(integration.nsdelete integration/nsdelete_test.sh TIMEOUT 300 RUN_SERIAL)
