# `edgekv dev` in a world with keys: it sends the world's token to the REST API (dev_keys_test.sh).
# Needs Node.js and dev's npm packages, like compat.dev; a few seconds.
ekv_script_test(compat.dev_keys compat/dev_keys_test.sh TIMEOUT 300)
