# The predicted t-visibility (issue 27): two short `edgekv run`s, push and ttl, whose
# tvis_predicted agrees with the observed t_visibility at every bin of 200 reads or more.
# Timing-sensitive (the load generator's clock against the PoPs'): run alone. About 30 s.
# Labelled `model` too: the sanitizer pass leaves it out (unit.tvis_predict runs the model's
# code there; this test's 30 s are two experiments against it).
ekv_script_test(integration.tvis_predict integration/tvis_predict_test.sh TIMEOUT 120 RUN_SERIAL
                LABELS integration model)
