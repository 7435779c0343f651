# `edgekv up --ui` (up_ui_test.sh): the world and its live page in one command, recorded,
# shown by status and stopped by down.
add_test(NAME integration.up_ui
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/integration/up_ui_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.up_ui PROPERTIES LABELS integration TIMEOUT 120)
