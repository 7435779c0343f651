# Hosts as network namespaces (hosts_netns_test.sh): `edgekv up --netns` of three hosts on a
# bridge with CURVE and tokens, probe and verify, a host partitioned and healed, down leaving
# nothing. Needs root, unshare and ip (else skipped, 77); runs alone (it times a partition).
# Label netns: the sanitizer pass leaves it out (the daemon code it runs is what
# integration.secure and integration.hosts run there).
add_test(NAME integration.hosts_netns
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/hosts_netns_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.hosts_netns PROPERTIES LABELS "integration;netns" TIMEOUT 60
                     RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
