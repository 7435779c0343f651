/* export: a topology as manifests for a container engine (`edgekv export`, docs/deploy.md).
 *
 * Every daemon runs `DAEMON --options-file /etc/edgekv/NAME.options`: its options file holds
 * what `edgekv up` would put on its command line (the topology's settings), with the
 * addresses of the engine instead of loopback ports, and no ready file (the engine probes
 * /health and /_edgekv/health). The world's keys reach the daemons as environment variables
 * (EDGEKV_TOKEN and the CURVE keys, each daemon only those its role needs), never in an
 * options file or an argument.
 *
 *   k8s      DIR/edgekv.yaml: ConfigMap NAME-world (topology.yaml and every NAME.options),
 *            Secret NAME-keys, the coordinator as StatefulSet (its store on a PVC from
 *            volumeClaimTemplates) behind a headless Service, each tier and PoP a Deployment
 *            and a Service; daemons reach each other by Service name.
 *   podman   what `podman kube play` 4.3 accepts: DIR/edgekv-podman.yaml (ConfigMap, PVC
 *            NAME-coordinator-db, one Pod NAME-world with every daemon as a container on
 *            127.0.0.1, HTTP on hostPorts from the port base) and DIR/podman-secret.json
 *            for `podman secret create NAME-keys` (kube play reads no Secret from the YAML).
 *   compose  DIR/compose.yaml, DIR/options/NAME.options and DIR/env/ROLE.env (0600): a
 *            service per daemon, reached by service name, HTTP published on 127.0.0.1.
 * Each also writes DIR/world.json (for `edgekv up --attach`: the URLs the CLI reaches) and
 * DIR/keys.json (0600: the CLI's token for that world). Files holding secrets are 0600. */
#ifndef EKV_EXPORT_H
#define EKV_EXPORT_H

#include <stddef.h>

#include "keys.h"
#include "topology.h"

typedef enum { EKV_EXPORT_K8S, EKV_EXPORT_PODMAN, EKV_EXPORT_COMPOSE } ekv_export_kind_t;

typedef struct {
    ekv_export_kind_t kind;
    const char *out;     /* folder, made when missing */
    const char *image;   /* every container's image */
    const char *name;    /* prefix of every object's name ([a-z0-9-], default "edgekv") */
    const char *ns;      /* k8s: metadata.namespace of every object; NULL: none */
    const char *storage; /* k8s, podman: the coordinator's claim ("1Gi") */
    int port_base;       /* podman, compose: host ports (coordinator base, tiers base + 10 + i,
                          * PoPs base + 100 + i) */
} ekv_export_opts_t;

#define EKV_EXPORT_PORT_BASE 28780

/* Writes the files of o->kind for topology t (its text: topo_text) and keys k into o->out.
 * EKV_OK, or EKV_EINVAL / EKV_EIO with the reason in err. */
int ekv_export_write(const ekv_topo_t *t, const char *topo_text, const ekv_keys_t *k,
                     const ekv_export_opts_t *o, char *err, size_t errlen);

/* `edgekv export k8s|compose [TOPOLOGY] [options]`. */
int ekv_cmd_export(int argc, char **argv);

#endif
