/* launch: the `edgekv up`, `down` and `status` commands.
 *
 * up starts the coordinator, waits for its ready file, starts the regional tiers (if the
 * topology has any) and waits for theirs, starts every PoP of the topology connected to it
 * (and to its tier), waits until each has said hello and heard a heartbeat, records them all
 * in the state file and prints a table. Each daemon runs in its own session (setsid) with
 * its log in $EDGEKV_HOME/logs/. If anything fails to come up, up stops what it started and
 * shows the failing log. down stops exactly the recorded processes. */
#ifndef EKV_LAUNCH_H
#define EKV_LAUNCH_H

#include "state.h"
#include "topology.h"

int ekv_cmd_up(int argc, char **argv);

/* Starts topology t (loaded from path) in $EDGEKV_HOME and records it; fills *st (free
 * st->pops and st->tiers, or stop with ekv_launch_stop). EKV_EEXIST when one is running there
 * already. */
int ekv_launch_start(const ekv_topo_t *t, const char *path, ekv_state_t *st);
/* The same with netns 1: each host in a network namespace of its own (`up --netns`, see
 * transport.h), with netem 1 the kernel's delay on each host's link too (`--netem`). */
int ekv_launch_start_netns(const ekv_topo_t *t, const char *path, ekv_state_t *st, int netns,
                           int netem);
/* Stops everything in st and removes the state file. */
void ekv_launch_stop(ekv_state_t *st);
/* Stops PoP i if it runs and starts it again on the same address; waits until ready. */
int ekv_launch_restart_pop(const ekv_topo_t *t, size_t i, ekv_state_t *st);
/* Stops tier i if it runs and starts it again on the same HTTP address and serve endpoint
 * (its PoPs reconnect by themselves); waits until ready. */
int ekv_launch_restart_tier(const ekv_topo_t *t, size_t i, ekv_state_t *st);
/* Stops the coordinator if it runs and starts it again on the same addresses and data. */
int ekv_launch_restart_coord(const ekv_topo_t *t, ekv_state_t *st);
int ekv_cmd_down(int argc, char **argv);
int ekv_cmd_status(int argc, char **argv);

/* Folder of the running edgekv executable (where the daemons are installed beside it). */
const char *ekv_bin_dir(void);

#endif
