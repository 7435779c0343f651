# edgekv export (sim/export.c): the k8s, podman and compose files read back with libyaml:
# kinds, names, references, each daemon's options, no secret outside the Secret.
ekv_add_unit_test(export SOURCES unit/export_test.c ${PROJECT_SOURCE_DIR}/sim/export.c
                                 ${PROJECT_SOURCE_DIR}/sim/keys.c ${PROJECT_SOURCE_DIR}/sim/state.c
                  LIBS ekv_report PkgConfig::JANSSON PkgConfig::ZMQ PkgConfig::YAML)
