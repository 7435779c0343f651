# report.html in Debian's chromium, headless, over the DevTools protocol (report_test.sh,
# report_page.py; no npm): a short push-vs-kv experiment on the repository's world, its page
# laid out and checked (a text under every section, each policy against the documentation,
# maps, counterexample timelines, the heatmap from per-PoP stale series), screenshots kept in
# the build folder (report-screenshots/). Skipped (status 77) where /usr/bin/chromium is
# missing. It runs two worlds of 28 PoPs: alone.
# Not timed (it checks texts, layout and colours), so it may run beside other tests.
ekv_script_test(integration.report_browser browser-report/report_test.sh TIMEOUT 300
                SKIP_RETURN_CODE 77 LABELS integration browser
                ARGS ${CMAKE_BINARY_DIR}/report-screenshots)
