/* transport: what `edgekv up` does for coordinator.transport epgm (docs/topology.md): the
 * group's port, the multicast set-up of a namespace of edgekv's own, and undoing it. */
#ifndef EKV_TRANSPORT_H
#define EKV_TRANSPORT_H

#include <stddef.h>

#include "topology.h"

/* The epgm endpoint the coordinator should publish on (into ep), after the multicast set-up
 * the topology asks for; NULL for TCP: the topology's transport is tcp, or epgm cannot be
 * used here (said on stderr). */
const char *ekv_transport_choose(const ekv_topo_t *t, char *ep, size_t len);

/* 1, with the coordinator log's line in why, when the coordinator could not bind its epgm
 * PUB (a libzmq without PGM, an interface without multicast). */
int ekv_transport_refused(char *why, size_t len);

/* Undoes the multicast set-up recorded in $EDGEKV_HOME/run/multicast, if any. */
void ekv_transport_undo(void);

#endif
