# What readers see under kv, as the CLI reports it (look_test.sh): `edgekv look` of a key whose
# new version a serves and b and its tier do not yet, verify under kv, probe and watch with
# served-from after arrival and the reason. It times cache lifetimes: it runs alone.
add_test(NAME integration.look
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/look_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.look PROPERTIES LABELS integration TIMEOUT 120 RUN_SERIAL TRUE)
