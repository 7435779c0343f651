# The options files of `edgekv export` read by the daemons themselves (k8s_options_test.sh):
# every file of the k8s, podman and compose exports of a world with a tier, a skewed host and
# every optional option is accepted by its daemon's --options-file, without podman or root.
ekv_script_test(integration.k8s_options integration/k8s_options_test.sh TIMEOUT 60)
