# The kv world's t-visibility model (sim/analysis.h): closed forms, and Monte Carlo runs of the
# PoP and tier caches' mechanism (refresh-ahead included) that the derivation must match.
ekv_add_unit_test(analysis_kv SOURCES unit/analysis_kv_test.c LIBS ekv_analysis)
