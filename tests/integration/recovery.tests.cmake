# Recovery without lost or resurrected data (recovery_*_test.sh, helpers in recovery_lib.sh):
# a PoP behind the change log's retention, a coordinator restarted on an empty folder, and
# kill -9 of the coordinator during bulk and namespace operations.
foreach(t retention wipe)
  add_test(NAME integration.recovery_${t}
           COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/recovery_${t}_test.sh
                   ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
  set_tests_properties(integration.recovery_${t} PROPERTIES LABELS integration TIMEOUT 120)
endforeach()
