# Scenarios: measurements that must agree with theory (timing-sensitive: run alone).
ekv_script_test(scenario.theory scenarios/theory_test.sh TIMEOUT 600 RUN_SERIAL)
# Faults end to end (docs/faults.md): a 30 s partition with stale-read reporting, PoPs killed
# and restarted while writes flow, and a 5-minute soak under random faults with memory checks.
foreach(t partition rejoin)
    ekv_script_test(scenario.${t} scenarios/${t}_test.sh TIMEOUT 300 RUN_SERIAL)
endforeach()
ekv_script_test(scenario.soak scenarios/soak_test.sh TIMEOUT 900 RUN_SERIAL)
