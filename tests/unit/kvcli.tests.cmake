# edgekv kv without a world (sim/kvcli_io.c): JSONC to JSON keeping strings and line numbers,
# wrangler's rules for the namespace of a --binding (--preview, --env), base64 of bulk values.
ekv_add_unit_test(kvcli
                  SOURCES unit/kvcli_test.c ${PROJECT_SOURCE_DIR}/sim/kvcli_io.c
                          ${PROJECT_SOURCE_DIR}/sim/hclient.c ${PROJECT_SOURCE_DIR}/sim/look.c
                          ${PROJECT_SOURCE_DIR}/sim/state.c ${PROJECT_SOURCE_DIR}/sim/text.c
                  LIBS ekv_report ekv_proto PkgConfig::LIBEVENT PkgConfig::JANSSON)
