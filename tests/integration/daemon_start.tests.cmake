# How both daemons start: options read from one table (bad ones refused with the option's
# name), the soft open-file limit raised to the hard one, and --verbose (daemon_start_test.sh).
add_test(NAME integration.daemon_start
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/daemon_start_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.daemon_start PROPERTIES LABELS integration TIMEOUT 120)
