# Expirations follow time_scale (expiration_test.sh): keys written with expirationTtl and
# expiration through PoPs, REST and bulk expire at every PoP a time_scale-th of the time later.
# It times expirations: it runs alone.
add_test(NAME integration.expiration
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/expiration_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.expiration PROPERTIES LABELS integration TIMEOUT 120
                     RUN_SERIAL TRUE)
