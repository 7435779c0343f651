# Issue 27's Prometheus test (prometheus_test.sh): Debian's prometheus scrapes a small kv world
# through the file_sd targets file of `edgekv up` and reports every process up and the KV
# counters the test's reads and writes made. Skipped only without the prometheus binary.
ekv_script_test(integration.prometheus integration/prometheus_test.sh TIMEOUT 120
                SKIP_RETURN_CODE 77)
