# `edgekv kv`, wrangler 4's kv commands (kvcli_test.sh): every verb against the REST API with
# wrangler's lines, JSON and errors; --pop b serving the old value until its cacheTtl while the
# central get is new; bulk round trips; bad flags, unknown namespace, binding or PoP, missing
# file, wrangler.toml. It times a cache lifetime: it runs alone.
ekv_script_test(integration.kvcli integration/kvcli_test.sh TIMEOUT 120 RUN_SERIAL)
