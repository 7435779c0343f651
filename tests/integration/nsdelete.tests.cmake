# Namespace deletion (nsdelete_test.sh): deleted under concurrent writes it leaves no orphans
# at the coordinator or the PoPs, and the default namespace comes back holding only later
# writes; a large deletion never lets the PoPs' heartbeats lapse; a deletion cut by kill -9 is
# finished after the restart. Timing-sensitive: it runs alone.
add_test(NAME integration.nsdelete
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/nsdelete_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.nsdelete PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE)
