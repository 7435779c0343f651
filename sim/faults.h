/* faults: carrying out faults on a running topology, for `edgekv fault` and for experiment
 * timelines. Processes are signalled by recorded pid (never by name); link faults go to the
 * PoP's /_edgekv/fault endpoint; restarts go through the launcher on the same addresses. */
#ifndef EKV_FAULTS_H
#define EKV_FAULTS_H

#include "experiment.h"
#include "state.h"
#include "topology.h"

/* Applies f (f->pop names a PoP or a regional tier); returns 0 when done, -1 with a message
 * on stderr otherwise. */
int ekv_fault_apply(const ekv_topo_t *t, ekv_state_t *st, const ekv_fault_t *f);

/* `edgekv fault ACTION [POP] [DELAY_MS]`. */
int ekv_cmd_fault(int argc, char **argv);

#endif
