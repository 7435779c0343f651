# Clocks (skew_test.sh): PoPs on hosts whose clocks are 50 ms ahead and behind the
# coordinator's measure their delays on the coordinator's clock (TIME / TIME_REPLY). Serial:
# it measures delays to 3 ms.
ekv_script_test(integration.skew integration/skew_test.sh TIMEOUT 60 RUN_SERIAL)
