# The coordinator's PUB over epgm, end to end (issue 31): in a network namespace of its own,
# with set-up, probe, look, verify, multicast losses (5-20% at random and a 1 s blackout)
# caught up over TCP with every PoP's values checked, an experiment and
# the refusal without root. Skipped (77) without root or a libzmq with PGM. It times
# catch-up and runs an experiment: it runs alone.
add_test(NAME integration.epgm
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/epgm_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.epgm PROPERTIES LABELS integration TIMEOUT 300 RUN_SERIAL TRUE
                     SKIP_RETURN_CODE 77)
