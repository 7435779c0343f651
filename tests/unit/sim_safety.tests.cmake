# Files the CLI and the daemons create (links are never followed) and what report.html prints
# (escaped): the unit half of integration.sim_safety.
ekv_add_unit_test(file SOURCES unit/file_test.c LIBS ekv_common)
ekv_add_unit_test(report_html SOURCES unit/report_html_test.c LIBS ekv_report)
