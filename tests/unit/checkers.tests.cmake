# The consistency checkers over a recorded history (sim/checkers.h): read-your-writes,
# monotonic reads per client and per PoP, bounded staleness, lost updates and 429s, on
# hand-made histories; their JSON (sim/checkers_json.c, which needs jansson) compiled in here
# until ekv_report carries it.
ekv_add_unit_test(checkers SOURCES unit/checkers_test.c ${PROJECT_SOURCE_DIR}/sim/checkers_json.c
                  LIBS ekv_analysis PkgConfig::JANSSON)
