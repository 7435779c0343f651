# The daemons' security on loopback (secure_test.sh): CURVE on every ZeroMQ port with the keys
# in the environment, the ZAP handler refusing other client keys, and the start-up refusals
# of addresses outside loopback. secure_keys prints fresh keypairs for it.
add_executable(secure_keys integration/secure_keys.c)
target_link_libraries(secure_keys PRIVATE PkgConfig::ZMQ)
set_target_properties(secure_keys PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
ekv_script_test(integration.secure integration/secure_test.sh TIMEOUT 120
                ARGS $<TARGET_FILE:secure_keys>)
