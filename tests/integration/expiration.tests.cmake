# Expirations follow time_scale (expiration_test.sh): keys written with expirationTtl and
# expiration through PoPs, REST and bulk expire at every PoP a time_scale-th of the time later.
# It times expirations: it runs alone.
ekv_script_test(integration.expiration integration/expiration_test.sh TIMEOUT 120 RUN_SERIAL)
