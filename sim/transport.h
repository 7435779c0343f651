/* transport: the world's network. What `edgekv up` does for coordinator.transport epgm
 * (docs/topology.md): the group's port, the multicast set-up of a namespace of edgekv's own,
 * and undoing it; and for `up --netns`: each host in a network namespace of its own, joined
 * to the launcher's by a bridge and a veth pair per host, undone by `down`. */
#ifndef EKV_TRANSPORT_H
#define EKV_TRANSPORT_H

#include <stddef.h>

#include "state.h"
#include "topology.h"

/* The epgm endpoint the coordinator should publish on (into ep), after the multicast set-up
 * the topology asks for; NULL for TCP: the topology's transport is tcp, or epgm cannot be
 * used here (said on stderr). */
const char *ekv_transport_choose(const ekv_topo_t *t, char *ep, size_t len);

/* 1, with the coordinator log's line in why, when the coordinator could not bind its epgm
 * PUB (a libzmq without PGM, an interface without multicast). */
int ekv_transport_refused(char *why, size_t len);

/* Undoes the multicast set-up recorded in $EDGEKV_HOME/run/multicast and the namespaces,
 * veths and bridge recorded in $EDGEKV_HOME/run/netns, if any. */
void ekv_transport_undo(void);

/* `up --netns`: 0 when the world can run with its hosts in namespaces here: root, iproute2's
 * ip, a network namespace of edgekv's own, every host off loopback and in the hosts' network,
 * the world's keys (secure: keys.json was loaded), a tcp PUB. Else -1 after saying why. */
int ekv_netns_check(const ekv_topo_t *t, int secure);

/* Makes the bridge, a namespace and a veth pair per host, each step recorded before it is
 * done (so ekv_transport_undo undoes a half-made set-up too), and fills st's netns fields.
 * netem: each host's delay_ms as the kernel's delay on both ends of its veth, refused when
 * this kernel has no netem. 0, or -1 after saying why (what was made is left for the undo). */
int ekv_netns_setup(const ekv_topo_t *t, ekv_state_t *st, int netem);

/* In a child about to run a daemon: joins network namespace ns (/run/netns/NS). 0 or -1. */
int ekv_netns_enter(const char *ns);

/* Sets the bridge side of a host's veth down (a partition of the whole host) or up. 0, or -1
 * after saying why. */
int ekv_netns_link(const char *veth, int up);

#endif
