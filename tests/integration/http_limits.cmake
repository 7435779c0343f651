# Slow, idle, surplus and oversized HTTP clients against both daemons (common/ekv_http.c).
# It times deadlines to within a second: it runs alone.
ekv_script_test(integration.http_limits integration/http_limits_test.sh TIMEOUT 300 RUN_SERIAL)
