/* state: what `edgekv up` started, kept in $EDGEKV_HOME/state.json (default ./.edgekv), so
 * that status, probe and down find the running topology and stop exactly those processes.
 *
 * A process is identified by its pid and its start time (field 22 of /proc/PID/stat): a pid
 * that was recycled by another program has another start time and is never signalled. */
#ifndef EKV_STATE_H
#define EKV_STATE_H

#include <stddef.h>

typedef struct {
    char name[64]; /* PoP or tier name, or "coordinator" */
    char city[128];
    char url[128]; /* HTTP base URL ("" when none) */
    int pid;
    unsigned long long start; /* start time in clock ticks since boot */
    double delay_ms;          /* configured one-way delay, simulated ms */
    char policy[16];
    char tier[64];   /* PoPs: the regional tier it reads through ("" for none) */
    char serve[128]; /* tiers: the ZeroMQ endpoint its PoPs read through */
    char host[64];   /* the topology host it runs on ("" in state files from before hosts) */
} ekv_proc_t;

#define EKV_STATE_MAX_HOSTS 64 /* EKV_TOPO_MAX_HOSTS */

/* A host of the topology, as the world was started on it. */
typedef struct {
    char name[64];
    char address[64];
    double clock_skew_ms;
    /* `up --netns`: its network namespace (/run/netns/NS) and the bridge side of its veth pair
     * ("" without one); partitioned while `edgekv fault partition HOST` holds that link down. */
    char ns[96];
    char veth[16];
    int partitioned;
} ekv_state_host_t;

typedef struct {
    char topology[1024];        /* topology file the run was started from */
    double time_scale;          /* simulated ms per real ms */
    char pub[128], router[128]; /* coordinator ZeroMQ endpoints */
    ekv_proc_t coord;
    ekv_proc_t *pops;
    size_t npops;
    ekv_proc_t *tiers; /* regional tiers (nodes in the tier role); may be none */
    size_t ntiers;
    ekv_proc_t ui; /* `edgekv up --ui`'s live page server (`edgekv ui`); pid 0 = none */
    ekv_state_host_t hosts[EKV_STATE_MAX_HOSTS]; /* none in state files from before hosts */
    size_t nhosts;
    int remote;      /* 1: an attached world (`up --attach`): it runs elsewhere, every pid is 0 */
    int secure;      /* 1: started with $EDGEKV_HOME/keys.json (CURVE and the bearer token) */
    int netns;       /* 1: `up --netns`: each host in a namespace, joined by bridge */
    int netem;       /* 1: `up --netns --netem`: hosts' delay_ms as the kernel's, on their links */
    char bridge[16]; /* the bridge's name */
    char bridge_address[24]; /* its address and prefix, 10.77.0.254/24: the launcher's side */
} ekv_state_t;

/* The state folder: $EDGEKV_HOME, else ./.edgekv. */
const char *ekv_state_dir(void);
/* Loads state.json; EKV_ENOTFOUND when there is none, EKV_EINVAL when it is unreadable. */
int ekv_state_load(ekv_state_t **out);
int ekv_state_save(const ekv_state_t *st);
/* Reads a world that runs elsewhere (a cluster, containers) from path, in state.json's format
 * (coordinator, pops and tiers with their URLs; pids are ignored) into a new remote state.
 * EKV_EINVAL with the reason in err when it is not one. */
int ekv_state_attach(const char *path, ekv_state_t **out, char *err, size_t errlen);
int ekv_state_remove(void);
void ekv_state_destroy(ekv_state_t **self_p);

/* Start time of pid, or 0 when it is not running (or is a zombie). */
unsigned long long ekv_proc_start_time(int pid);
/* 1 when the recorded process is still the one that was started. */
int ekv_proc_alive(const ekv_proc_t *p);
/* The CPUs pid may run on, as the kernel lists them ("1", "0-3"), into buf; "-" when they
 * cannot be read. Returns buf. */
const char *ekv_proc_cpus(int pid, char *buf, size_t len);
/* Sends sig to the recorded process if it is still the one that was started (pid and start
 * time, compared before the signal). Returns 0 when sent, -1 when not (gone, recycled pid). */
int ekv_proc_signal(const ekv_proc_t *p, int sig);
/* Stops the recorded process: SIGTERM, then SIGKILL after grace_ms. Never signals a recycled
 * pid. Returns 1 if it had to be killed, 0 otherwise. */
int ekv_proc_stop(const ekv_proc_t *p, int grace_ms);

#endif
