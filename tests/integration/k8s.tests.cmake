# Kubernetes as the engine, under podman (k8s_test.sh): scripts/image, `edgekv keys`, `edgekv
# export k8s --podman`, podman secret create, kube play, `up --attach`, probe and verify across
# the pod, admin paths 401 without the token, kube down and every podman object it made
# removed. Needs root, podman, runc and catatonit (else skipped, 77). Label container: the
# sanitizer pass leaves it out (the daemons run from an image of the plain build).
ekv_script_test(integration.k8s integration/k8s_test.sh TIMEOUT 120 LABELS "integration;container"
                SKIP_RETURN_CODE 77)
