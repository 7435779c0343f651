# How both daemons start: options read from one table (bad ones refused with the option's
# name), the soft open-file limit raised to the hard one, and --verbose (daemon_start_test.sh).
ekv_script_test(integration.daemon_start integration/daemon_start_test.sh TIMEOUT 120)
