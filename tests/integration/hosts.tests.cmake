# Hosts in the topology (hosts_test.sh): a world on three loopback hosts (127.0.0.1-3), each
# daemon bound to its host's address, probe and verify across them; `up` refuses a host
# outside loopback. No root needed.
ekv_script_test(integration.hosts integration/hosts_test.sh TIMEOUT 60)
