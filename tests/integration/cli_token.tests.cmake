# The world's token in the CLI's requests and on the live page (cli_token_test.sh), against a
# python stand-in for the daemons: no world is started.
ekv_script_test(integration.cli_token integration/cli_token_test.sh TIMEOUT 60)
