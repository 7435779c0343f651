# What readers see under kv, as the CLI reports it (look_test.sh): `edgekv look` of a key whose
# new version a serves and b and its tier do not yet, verify under kv, probe and watch with
# served-from after arrival and the reason. It times cache lifetimes: it runs alone.
ekv_script_test(integration.look integration/look_test.sh TIMEOUT 120 RUN_SERIAL)
