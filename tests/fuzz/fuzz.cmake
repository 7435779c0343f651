# Fuzz targets: replayed from their committed corpus on every run.
ekv_add_fuzz_target(msg SOURCES fuzz/msg_fuzz.c LIBS ekv_proto
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/msg)
ekv_add_fuzz_target(topology SOURCES fuzz/topology_fuzz.c LIBS ekv_topology
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/topology)
ekv_add_fuzz_target(multipart SOURCES fuzz/multipart_fuzz.c LIBS ekv_coord_logic
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/multipart)
ekv_add_fuzz_target(cursor SOURCES fuzz/cursor_fuzz.c LIBS ekv_proto
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/cursor)
ekv_add_fuzz_target(experiment SOURCES fuzz/experiment_fuzz.c LIBS ekv_topology
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/experiment)
ekv_add_fuzz_target(bulk SOURCES fuzz/bulk_fuzz.c LIBS ekv_coord_logic
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/bulk)
ekv_add_fuzz_target(key SOURCES fuzz/key_fuzz.c LIBS ekv_proto
                    CORPUS ${CMAKE_CURRENT_SOURCE_DIR}/fuzz/corpus/key)
