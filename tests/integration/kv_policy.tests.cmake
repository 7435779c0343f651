# The kv policy as users of two PoPs see it (kv_policy_test.sh): cached copies, found and not
# found, and lists served until their cacheTtl after a write elsewhere; look; refresh-ahead;
# served visibility. It times cache lifetimes: it runs alone.
ekv_script_test(integration.kv_policy integration/kv_policy_test.sh TIMEOUT 120 RUN_SERIAL)
