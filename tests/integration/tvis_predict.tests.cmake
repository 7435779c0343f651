# The predicted t-visibility (issue 27): two short `edgekv run`s, push and ttl, whose
# tvis_predicted agrees with the observed t_visibility at every bin of 200 reads or more.
# Timing-sensitive (the load generator's clock against the PoPs'): run alone. About 30 s.
ekv_script_test(integration.tvis_predict integration/tvis_predict_test.sh TIMEOUT 120 RUN_SERIAL)
