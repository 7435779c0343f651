# edgekv ui (sim/ui.c, sim/ui_poll.c, sim/ui/): its server's API, SSE stream, faults and bad
# input with curl (ui_api_test.sh), and the page itself in Debian's chromium, headless, driven
# by the pinned puppeteer-core of tests/browser (ui_test.sh; skipped, status 77, where
# /usr/bin/chromium is missing). The browser test keeps its screenshots in the build folder.
add_test(NAME integration.ui_api
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/ui_api_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.ui_api PROPERTIES LABELS integration TIMEOUT 120)
# 429s counted by the PoPs (rate_limited) and summed by edgekv ui for the page (ui_429_test.sh).
add_test(NAME integration.ui_429
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/ui_429_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.ui_429 PROPERTIES LABELS integration TIMEOUT 120)
# A PoP fetching the watched key says so on its look and on the stream (ui_fetch_test.sh).
add_test(NAME integration.ui_fetch
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/ui_fetch_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR})
set_tests_properties(integration.ui_fetch PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME integration.ui_browser
         COMMAND ${BASH} ${CMAKE_CURRENT_SOURCE_DIR}/browser/ui_test.sh
                 ${CMAKE_BINARY_DIR}/bin ${PROJECT_SOURCE_DIR} ${CMAKE_BINARY_DIR}/ui-screenshots)
set_tests_properties(integration.ui_browser PROPERTIES LABELS "integration;browser" TIMEOUT 300
                     RUN_SERIAL TRUE SKIP_RETURN_CODE 77)
# The server's request parser (sim/ui_api.c), every handler's input: fuzzed, its corpus replayed.
ekv_fuzz_target(ui_api SOURCES browser/ui_api_fuzz.c ${PROJECT_SOURCE_DIR}/sim/ui_api.c
                LIBS ekv_topology PkgConfig::LIBEVENT
                CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/browser/corpus/ui_api)
