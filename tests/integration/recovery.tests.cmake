# Recovery without lost or resurrected data (recovery_*_test.sh, helpers in recovery_lib.sh):
# a PoP behind the change log's retention, a coordinator restarted on an empty folder or
# after kill -9 under durability none, and kill -9 of the coordinator during bulk and
# namespace operations (checked by recovery_kill_check.py). The last aims its kills at
# milliseconds after a request is sent: it runs alone.
foreach(t retention wipe kill)
  ekv_script_test(integration.recovery_${t} integration/recovery_${t}_test.sh TIMEOUT 180)
endforeach()
set_tests_properties(integration.recovery_kill PROPERTIES RUN_SERIAL TRUE)
