# edgekv keys (sim/keys.c): keys.json's mode, exclusive creation, --force, links refused, the
# CURVE pairs and the token checked.
ekv_add_unit_test(keys SOURCES unit/keys_test.c ${PROJECT_SOURCE_DIR}/sim/keys.c
                               ${PROJECT_SOURCE_DIR}/sim/state.c
                  LIBS ekv_report PkgConfig::JANSSON PkgConfig::ZMQ)
