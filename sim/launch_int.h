/* launch_int: what launch.c (the coordinator, the state file, the commands) shares with
 * launch_nodes.c (the PoPs and tiers). Not for use outside launch*.c. */
#ifndef EKV_LAUNCH_INT_H
#define EKV_LAUNCH_INT_H

#include <jansson.h>
#include <sys/types.h>

#include "state.h"
#include "topology.h"

/* The --pub-rate-kbps and --pub-recovery-ms arguments every daemon gets with an epgm PUB:
 * PoPs and tiers keep the coordinator's repair window. */
typedef struct {
    char rate[16], recovery[16];
} pgm_args_t;

/* 1 when the PUB endpoint is epgm://. */
int launch_is_epgm(const char *endpoint);
/* Fills a with the topology's PGM rate and recovery interval. */
void launch_pgm_args(const ekv_topo_t *t, pgm_args_t *a);

/* Records a started daemon in p: its pid and start time. */
void launch_adopt(ekv_proc_t *p, pid_t pid);
/* Starts argv[0] (a program beside edgekv) in a new session, output to logpath, on CPU cpu
 * alone or anywhere when cpu < 0, in network namespace ns (`up --netns`; NULL or "": this
 * one), and records it in p; EKV_EIO when it cannot fork. */
int launch_spawn(char *const argv[], const char *logpath, int cpu, const char *ns, ekv_proc_t *p);
/* With `--netem`, the simulated milliseconds of PoP i's delay the kernel adds on the way from
 * the coordinator (its host's and the coordinator host's delay_ms, one way, times time_scale;
 * none on the coordinator's own host, whose traffic stays on lo); 0 without. */
double launch_netem_ms(const ekv_topo_t *t, const ekv_state_t *st, size_t i);
/* The network namespace of topology host i in st ("" without --netns). */
const char *launch_host_ns(const ekv_state_t *st, int host_index);
void launch_sleep_ms(int ms);
/* Reads a ready file written by a daemon; NULL until it exists (json_decref it). */
json_t *launch_read_ready(const char *path);
/* Prints the end of $EDGEKV_HOME/logs/NAME.log on stderr. */
void launch_show_log_tail(const char *name);

/* launch_nodes.c. PoP i on its own (a restart); port -1: the topology's. */
int launch_start_pop(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port);
/* Tier i on its own (a restart), on the recorded port and serve endpoint (-1, NULL: any). */
int launch_start_tier(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port, const char *serve);
/* Every PoP, or every tier, of the topology: through the zygote, then one by one. */
int launch_start_pops(const ekv_topo_t *t, ekv_state_t *st);
int launch_start_tiers(const ekv_topo_t *t, ekv_state_t *st);
/* Waits until each of the n processes has written its ready file (EKV_EIO when one exits,
 * EKV_ETIMEDOUT after a minute); fills in their URLs and, for tiers, their serve endpoints. */
int launch_wait_ready(ekv_proc_t *procs, size_t n, const char *what);
int launch_wait_pops(ekv_state_t *st);

#endif
