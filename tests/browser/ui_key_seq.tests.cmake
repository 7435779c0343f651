# The watched key's newest version on edgekv ui's stream (key_seq, wave_watched, wave_other):
# a write of another key made elsewhere is followed without passing for the watched key's
# (ui_key_seq_test.sh; the page's side is in ui.test.mjs).
add_test(NAME integration.ui_key_seq
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/ui_key_seq_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.ui_key_seq PROPERTIES LABELS integration TIMEOUT 120)
