# The edgekv CLI against stale state files and planted symbolic links (sim_safety_test.sh).
ekv_script_test(integration.sim_safety integration/sim_safety_test.sh TIMEOUT 180)
