# The predicted t-visibility of a run (sim/analysis.h, ekv_tvis_predict): the weighting over
# keys and PoPs on hand-made worlds, push steps from delays, and its cost on a big world.
ekv_add_unit_test(tvis_predict SOURCES unit/tvis_predict_test.c LIBS ekv_analysis)
