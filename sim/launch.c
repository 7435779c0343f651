/* launch: starting, recording and stopping a topology (see launch.h); the PoPs' and tiers'
 * command lines and their start are in launch_nodes.c. */
#include "launch.h"
#include "launch_int.h"

#include <errno.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ekv_args.h"
#include "ekv_daemon.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "keys.h"
#include "state.h"
#include "text.h"
#include "topology.h"
#include "transport.h"

#define COORD_WAIT_MS 15000

const char *ekv_bin_dir(void)
{
    static char dir[PATH_MAX];
    if (!dir[0]) {
        ssize_t n = readlink("/proc/self/exe", dir, sizeof dir - 1);
        if (n <= 0)
            strcpy(dir, ".");
        else
            dir[n] = '\0';
        char *slash = strrchr(dir, '/');
        if (slash)
            *slash = '\0';
    }
    return dir;
}

/* Records a started daemon: its pid and start time (which tells it from a later process that
 * reuses the pid). */
void launch_adopt(ekv_proc_t *p, pid_t pid)
{
    p->pid = pid;
    for (int i = 0; i < 100 && !(p->start = ekv_proc_start_time(pid)); i++)
        usleep(1000);
}

/* Starts argv[0] (a program beside edgekv) in a new session, output to logpath, on CPU cpu
 * alone (every thread it starts inherits that) or anywhere when cpu < 0. */
int launch_spawn(char *const argv[], const char *logpath, int cpu, const char *ns, ekv_proc_t *p)
{
    char prog[PATH_MAX + 64];
    snprintf(prog, sizeof prog, "%s/%s", ekv_bin_dir(), argv[0]);
    pid_t pid = fork();
    if (pid < 0)
        return EKV_EIO;
    if (pid == 0) {
        if (ns && *ns && ekv_netns_enter(ns) != 0) /* before the log takes stderr */
            _exit(127);
        ekv_daemon_detach(logpath, cpu, "edgekv");
        execv(prog, argv);
        fprintf(stderr, "edgekv: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    launch_adopt(p, pid);
    return EKV_OK;
}

const char *launch_host_ns(const ekv_state_t *st, int host_index)
{
    return host_index >= 0 && (size_t)host_index < st->nhosts ? st->hosts[host_index].ns : "";
}

void launch_sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Reads a ready file written by a daemon; NULL until it exists. */
json_t *launch_read_ready(const char *path)
{
    return access(path, F_OK) == 0 ? json_load_file(path, 0, NULL) : NULL;
}

void launch_show_log_tail(const char *name)
{
    char path[PATH_MAX], *text;
    size_t len;
    snprintf(path, sizeof path, "%s/logs/%s.log", ekv_state_dir(), name);
    if (ekv_file_read(path, 1 << 20, &text, &len) != EKV_OK)
        return;
    const char *start = len > 1500 ? text + len - 1500 : text;
    fprintf(stderr, "--- last lines of %s ---\n%s\n", path, start);
    free(text);
}

/* Every signal goes through ekv_proc_signal: a stale state file's pids may belong to other
 * programs by now. */
static void stop_all(ekv_state_t *st)
{
    if (st->ui.pid > 0) /* the page's server first: it polls the nodes */
        ekv_proc_stop(&st->ui, 5000);
    for (size_t i = 0; i < st->npops; i++)
        ekv_proc_signal(&st->pops[i], SIGTERM);
    for (size_t i = 0; i < st->npops; i++)
        ekv_proc_stop(&st->pops[i], 5000);
    /* The tiers after their PoPs (whose reads they answer), the coordinator last. */
    for (size_t i = 0; i < st->ntiers; i++)
        ekv_proc_signal(&st->tiers[i], SIGTERM);
    for (size_t i = 0; i < st->ntiers; i++)
        ekv_proc_stop(&st->tiers[i], 5000);
    ekv_proc_stop(&st->coord, 5000);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

/* ---- Prometheus's targets (docs/metrics.md) ------------------------------------------------
 * $EDGEKV_HOME/prometheus-targets.json lists every process of the world in file_sd format,
 * rewritten with state.json (a restart may move a process) and removed with it. file_sd labels
 * belong to a group, so each process is a group of its own, labelled with its kind and its name
 * under that kind (pop, tier or coordinator), its city, and a PoP's policy and tier. */

static void targets_path(char *buf, size_t len)
{
    snprintf(buf, len, "%s/prometheus-targets.json", ekv_state_dir());
}

/* One group: the process's host:port (its URL without the scheme) and its labels. */
static json_t *target(const ekv_proc_t *p, const char *kind)
{
    const char *addr = strstr(p->url, "://");
    json_t *labels = json_pack("{s:s, s:s, s:s}", "kind", kind, kind, p->name, "city", p->city);
    if (!strcmp(kind, "pop")) {
        json_object_set_new(labels, "policy", json_string(p->policy));
        if (p->tier[0])
            json_object_set_new(labels, "tier", json_string(p->tier));
    }
    return json_pack("{s:[s], s:o}", "targets", addr ? addr + 3 : p->url, "labels", labels);
}

/* Written atomically: Prometheus watches the file and must never read half of it. */
static void write_targets(const ekv_state_t *st)
{
    json_t *groups = json_array();
    json_array_append_new(groups, target(&st->coord, "coordinator"));
    for (size_t i = 0; i < st->ntiers; i++)
        json_array_append_new(groups, target(&st->tiers[i], "tier"));
    for (size_t i = 0; i < st->npops; i++)
        json_array_append_new(groups, target(&st->pops[i], "pop"));
    char *text = json_dumps(groups, JSON_INDENT(2));
    char path[PATH_MAX];
    targets_path(path, sizeof path);
    if (!text || ekv_file_write_atomic(path, text, strlen(text)) != EKV_OK)
        fprintf(stderr, "edgekv: cannot write %s\n", path);
    free(text);
    json_decref(groups);
}

/* state.json, then the targets that follow it. */
static int save_state(const ekv_state_t *st)
{
    int rc = ekv_state_save(st);
    if (rc == EKV_OK)
        write_targets(st);
    return rc;
}

static void remove_state(void)
{
    char path[PATH_MAX];
    targets_path(path, sizeof path);
    unlink(path);
    ekv_state_remove();
}

int launch_is_epgm(const char *endpoint)
{
    return !strncmp(endpoint, "epgm://", 7);
}

void launch_pgm_args(const ekv_topo_t *t, pgm_args_t *a)
{
    snprintf(a->rate, sizeof a->rate, "%d", t->coord.transport.rate_kbps);
    snprintf(a->recovery, sizeof a->recovery, "%d", t->coord.transport.recovery_ms);
}

/* Starts the coordinator publishing on epgm endpoint pub, or on TCP when pub is NULL (the
 * topology's pub_port, else any). quiet: a failure is the caller's to explain. */
static int start_coord(const ekv_topo_t *t, ekv_state_t *st, const char *epgm, int quiet)
{
    const ekv_topo_coord_t *c = &t->coord;
    char data[PATH_MAX], ready[PATH_MAX], log[PATH_MAX], pub[160], router[160], http[160], rate[32],
        hb[32], dur[sizeof c->durability], scale[32], api[32], skew[32];
    pgm_args_t pa;
    launch_pgm_args(t, &pa);
    snprintf(data, sizeof data, "%s/coordinator-db", ekv_state_dir());
    snprintf(ready, sizeof ready, "%s/run/coordinator.ready", ekv_state_dir());
    snprintf(log, sizeof log, "%s/logs/coordinator.log", ekv_state_dir());
    /* Every address from the coordinator's host. */
    const char *addr = ekv_topo_address(t, c->host_index);
    snprintf(pub, sizeof pub, "tcp://%s:%s", addr, c->pub_port ? "" : "*");
    snprintf(router, sizeof router, "tcp://%s:%s", addr, c->router_port ? "" : "*");
    if (c->pub_port)
        snprintf(pub, sizeof pub, "tcp://%s:%d", addr, c->pub_port);
    if (epgm)
        snprintf(pub, sizeof pub, "%s", epgm);
    if (c->router_port)
        snprintf(router, sizeof router, "tcp://%s:%d", addr, c->router_port);
    snprintf(http, sizeof http, "%s:%d", addr, c->http_port);
    if (st->pub[0]) { /* a restart: the same addresses, so the PoPs reconnect by themselves */
        snprintf(pub, sizeof pub, "%s", st->pub);
        snprintf(router, sizeof router, "%s", st->router);
        const char *colon = strrchr(st->coord.url, ':');
        snprintf(http, sizeof http, "%s:%d", addr, colon ? atoi(colon + 1) : c->http_port);
    }
    /* The same-key limit is in simulated time: a faster world allows proportionally more. */
    snprintf(rate, sizeof rate, "%ld", lround(t->write_rate_limit * t->time_scale));
    if (t->write_rate_limit > 0 && lround(t->write_rate_limit * t->time_scale) < 1)
        snprintf(rate, sizeof rate, "1");
    snprintf(hb, sizeof hb, "%ld", lround(c->heartbeat_ms));
    snprintf(dur, sizeof dur, "%s", c->durability);
    snprintf(scale, sizeof scale, "%g", t->time_scale);
    /* The account's API limit is per 5 simulated minutes, a window time_scale times shorter. */
    snprintf(api, sizeof api, "%ld",
             c->api_rate_limit > 0 ? lround(fmin(1e8, fmax(1, c->api_rate_limit * t->time_scale)))
                                   : 0L);
    unlink(ready);
    char *argv[] = {"edgekv-coordinator",
                    "--data",
                    data,
                    "--pub",
                    pub,
                    "--router",
                    router,
                    "--http",
                    http,
                    "--ready-file",
                    ready,
                    "--write-rate-limit",
                    rate,
                    "--heartbeat-ms",
                    hb,
                    "--durability",
                    dur,
                    "--time-scale",
                    scale,
                    "--api-rate-limit",
                    api,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL,
                    NULL};
    char **end = argv + sizeof argv / sizeof *argv - 7; /* the optional arguments */
    if (launch_is_epgm(pub)) {
        end[0] = "--pub-rate-kbps", end[1] = pa.rate;
        end[2] = "--pub-recovery-ms", end[3] = pa.recovery;
        end += 4;
    }
    /* Its host's clock, as tests skew it. */
    double host_skew = t->hosts[c->host_index].skew_ms;
    snprintf(skew, sizeof skew, "%g", host_skew);
    if (host_skew != 0)
        end[0] = "--clock-skew-ms", end[1] = skew;
    snprintf(st->coord.name, sizeof st->coord.name, "coordinator");
    snprintf(st->coord.city, sizeof st->coord.city, "%s", c->city);
    snprintf(st->coord.host, sizeof st->coord.host, "%s", t->hosts[c->host_index].name);
    if (launch_spawn(argv, log, -1, launch_host_ns(st, c->host_index), &st->coord) != EKV_OK)
        return EKV_EIO;
    for (int waited = 0; waited < COORD_WAIT_MS; waited += 20) {
        json_t *j = launch_read_ready(ready);
        if (j) {
            snprintf(st->coord.url, sizeof st->coord.url, "%s",
                     json_string_value(json_object_get(j, "http")));
            snprintf(st->pub, sizeof st->pub, "%s", json_string_value(json_object_get(j, "pub")));
            snprintf(st->router, sizeof st->router, "%s",
                     json_string_value(json_object_get(j, "router")));
            json_decref(j);
            return EKV_OK;
        }
        if (!ekv_proc_alive(&st->coord))
            break;
        launch_sleep_ms(20);
    }
    ekv_proc_stop(&st->coord, 2000);
    if (quiet)
        return EKV_EIO;
    fprintf(stderr, "edgekv: the coordinator did not start\n");
    launch_show_log_tail("coordinator");
    return EKV_EIO;
}

/* Starts the coordinator on the topology's transport; when its libzmq cannot publish over
 * epgm, says so and starts it on TCP. */
static int start_coord_on(const ekv_topo_t *t, ekv_state_t *st)
{
    char ep[160], why[300];
    const char *epgm = ekv_transport_choose(t, ep, sizeof ep);
    if (!epgm || start_coord(t, st, epgm, 1) == EKV_OK)
        return epgm ? EKV_OK : start_coord(t, st, NULL, 0);
    if (!ekv_transport_refused(why, sizeof why)) {
        fprintf(stderr, "edgekv: the coordinator did not start\n");
        launch_show_log_tail("coordinator");
        return EKV_EIO;
    }
    fprintf(stderr, "edgekv: cannot publish over epgm (%s); staying on TCP\n", why);
    ekv_transport_undo();
    return start_coord(t, st, NULL, 0);
}

/* The CPUs a recorded process may use ("1", "0-3"), or "-" when it no longer runs. */
static const char *cpus_of(const ekv_proc_t *p, int alive, char *buf, size_t len)
{
    return alive ? ekv_proc_cpus(p->pid, buf, len) : "-";
}

static void print_table(const ekv_state_t *st)
{
    char cpus[64];
    printf("coordinator ");
    ekv_text_pad(st->coord.city, 18);
    if (st->remote)
        printf(" %-26s remote (an attached world)\n", st->coord.url);
    else
        printf(" %-26s pid %d, CPUs %s\n", st->coord.url, st->coord.pid,
               cpus_of(&st->coord, ekv_proc_alive(&st->coord), cpus, sizeof cpus));
    if (st->ntiers) {
        printf("%-10s %-18s %-26s %10s  %-26s %8s  %s\n", "TIER", "CITY", "URL", "DELAY_MS",
               "SERVES AT", "PID", "CPUS");
        for (size_t i = 0; i < st->ntiers; i++) {
            const ekv_proc_t *p = &st->tiers[i];
            int alive = ekv_proc_alive(p);
            printf("%-10s ", p->name);
            ekv_text_pad(p->city, 18);
            if (st->remote)
                printf(" %-26s %10.3f  %-26s %8s\n", p->url, p->delay_ms, p->serve, "remote");
            else
                printf(" %-26s %10.3f  %-26s %8d  %s%s\n", p->url, p->delay_ms, p->serve, p->pid,
                       cpus_of(p, alive, cpus, sizeof cpus), alive ? "" : "  (not running)");
        }
    }
    int tiers = st->ntiers > 0;
    printf("%-10s %-18s %-26s %10s  %-10s %s%8s  %s\n", "POP", "CITY", "URL", "DELAY_MS", "POLICY",
           tiers ? "TIER       " : "", "PID", "CPUS");
    for (size_t i = 0; i < st->npops; i++) {
        const ekv_proc_t *p = &st->pops[i];
        int alive = ekv_proc_alive(p);
        printf("%-10s ", p->name);
        ekv_text_pad(p->city, 18);
        printf(" %-26s %10.3f  %-10s ", p->url, p->delay_ms, p->policy);
        if (tiers)
            printf("%-10s ", p->tier[0] ? p->tier : "-");
        if (st->remote)
            printf("%8s\n", "remote");
        else
            printf("%8d  %s%s\n", p->pid, cpus_of(p, alive, cpus, sizeof cpus),
                   alive ? "" : "  (not running)");
    }
}

/* 1 when a recorded topology still runs (and says so), 0 when none; stale state is dropped. */
static int already_running(void)
{
    ekv_state_t *st = NULL;
    if (ekv_state_load(&st) != EKV_OK)
        return 0;
    int alive = st->remote || ekv_proc_alive(&st->coord); /* an attached world: until down */
    for (size_t i = 0; !alive && i < st->npops; i++)
        alive = ekv_proc_alive(&st->pops[i]);
    for (size_t i = 0; !alive && i < st->ntiers; i++)
        alive = ekv_proc_alive(&st->tiers[i]);
    if (alive && st->remote)
        fprintf(stderr,
                "edgekv: a world is attached (%zu PoPs, from %s, state in %s);\n"
                "        run `edgekv down` first\n",
                st->npops, st->topology, ekv_state_dir());
    else if (alive)
        fprintf(stderr,
                "edgekv: a topology is already running (%zu PoPs, from %s, state in %s);\n"
                "        run `edgekv down` first\n",
                st->npops, st->topology, ekv_state_dir());
    else
        remove_state();
    ekv_state_destroy(&st);
    return alive;
}

static int make_dirs(void)
{
    char path[PATH_MAX];
    const char *d = ekv_state_dir();
    if (mkdir(d, 0755) != 0 && errno != EEXIST)
        return EKV_EIO;
    snprintf(path, sizeof path, "%s/logs", d);
    mkdir(path, 0755);
    snprintf(path, sizeof path, "%s/run", d);
    mkdir(path, 0755);
    return access(path, W_OK) == 0 ? EKV_OK : EKV_EIO;
}

/* Without namespaces every host's address must exist here: Linux routes all of 127.0.0.0/8 to
 * lo, so loopback hosts (127.0.0.2, ...) need no set-up; any other is refused before anything
 * starts. */
static int hosts_reachable(const ekv_topo_t *t)
{
    for (size_t i = 0; i < t->nhosts; i++) {
        const ekv_topo_host_t *h = &t->hosts[i];
        if (ekv_topo_is_loopback(h->address))
            continue;
        fprintf(stderr,
                "edgekv: host %s (%s) is not on loopback: run the world with `edgekv up --netns` "
                "(each host in a network namespace of its own; needs root) or on a cluster "
                "(`edgekv export k8s`)\n",
                h->name, h->address);
        return 0;
    }
    return 1;
}

/* The world's keys ($EDGEKV_HOME/keys.json, `edgekv keys`) into this process's environment,
 * which every daemon started from here inherits (never its command line: /proc/PID/cmdline is
 * world-readable). Sets st->secure when there are keys; with required (a restart in a secure
 * world) their absence is an error too. EKV_OK, or an error after saying why. */
static int world_keys(ekv_state_t *st, int required)
{
    ekv_keys_t k;
    int rc = ekv_keys_load(&k); /* an unusable file: said on stderr */
    if (rc == EKV_ENOTFOUND && !required)
        return EKV_OK;
    if (rc == EKV_ENOTFOUND) {
        char path[PATH_MAX];
        ekv_keys_path(path, sizeof path);
        fprintf(stderr, "edgekv: the world was started with keys and %s is gone\n", path);
    }
    if (rc != EKV_OK)
        return rc;
    ekv_keys_setenv(&k);
    memset(&k, 0, sizeof k);
    st->secure = 1;
    return EKV_OK;
}

int ekv_launch_start(const ekv_topo_t *t, const char *path, ekv_state_t *st)
{
    return ekv_launch_start_netns(t, path, st, 0, 0);
}

int ekv_launch_start_netns(const ekv_topo_t *t, const char *path, ekv_state_t *st, int netns,
                           int netem)
{
    memset(st, 0, sizeof *st);
    if (world_keys(st, 0) != EKV_OK)
        return EKV_EINVAL;
    if (netns ? ekv_netns_check(t, st->secure) != 0 : !hosts_reachable(t))
        return EKV_EINVAL;
    if (already_running())
        return EKV_EEXIST;
    if (make_dirs() != EKV_OK) {
        fprintf(stderr, "edgekv: cannot create %s\n", ekv_state_dir());
        return EKV_EIO;
    }
    if (!realpath(path, st->topology))
        snprintf(st->topology, sizeof st->topology, "%s", path);
    st->time_scale = t->time_scale;
    for (size_t i = 0; i < t->nhosts && i < EKV_STATE_MAX_HOSTS; i++, st->nhosts++) {
        snprintf(st->hosts[i].name, sizeof st->hosts[i].name, "%s", t->hosts[i].name);
        snprintf(st->hosts[i].address, sizeof st->hosts[i].address, "%s", t->hosts[i].address);
        st->hosts[i].clock_skew_ms = t->hosts[i].skew_ms;
    }
    st->pops = ekv_calloc(t->npops, sizeof *st->pops);
    st->npops = t->npops;
    st->tiers = ekv_calloc(t->ntiers + 1, sizeof *st->tiers);
    st->ntiers = t->ntiers;
    int rc = EKV_OK;
    st->netem = netns && netem;
    for (size_t i = 0; st->netem && rc == EKV_OK && i < t->npops; i++) {
        double kernel = launch_netem_ms(t, st, i), own = ekv_topo_delay_ms(t, &t->pops[i]);
        if (kernel > own) { /* the in-process link cannot take it back */
            fprintf(stderr,
                    "edgekv: PoP %s's delay (%g ms) is less than the netem delay of its "
                    "hosts (%g ms)\n",
                    t->pops[i].name, own, kernel);
            rc = EKV_EINVAL;
        }
    }
    if (rc == EKV_OK && netns && ekv_netns_setup(t, st, netem) != 0)
        rc = EKV_EIO; /* said why; what was made is undone below */
    if (rc == EKV_OK)
        rc = start_coord_on(t, st);
    /* The tiers first: each PoP is told its tier's endpoint, which a tier learns at binding. */
    if (rc == EKV_OK)
        rc = launch_start_tiers(t, st);
    if (rc == EKV_OK)
        rc = launch_wait_ready(st->tiers, st->ntiers, "tier");
    if (rc == EKV_OK)
        rc = launch_start_pops(t, st);
    if (rc == EKV_OK)
        rc = launch_wait_pops(st);
    if (rc == EKV_OK)
        rc = save_state(st);
    if (rc != EKV_OK) {
        stop_all(st);
        ekv_transport_undo();
        free(st->pops);
        st->pops = NULL;
        free(st->tiers);
        st->tiers = NULL;
    }
    return rc;
}

void ekv_launch_stop(ekv_state_t *st)
{
    stop_all(st);
    ekv_transport_undo();
    remove_state();
    free(st->pops);
    st->pops = NULL;
    free(st->tiers);
    st->tiers = NULL;
}

int ekv_launch_restart_pop(const ekv_topo_t *t, size_t i, ekv_state_t *st)
{
    ekv_proc_t *p = &st->pops[i];
    int port = -1;
    const char *colon = strrchr(p->url, ':');
    if (colon)
        port = atoi(colon + 1); /* same address, so clients find it again */
    if (world_keys(st, st->secure) != EKV_OK)
        return EKV_EINVAL;
    ekv_proc_stop(p, 2000);
    p->url[0] = '\0';
    if (launch_start_pop(t, i, st, port) != EKV_OK)
        return EKV_EIO;
    int rc = launch_wait_pops(st);
    if (rc == EKV_OK)
        save_state(st);
    return rc;
}

int ekv_launch_restart_tier(const ekv_topo_t *t, size_t i, ekv_state_t *st)
{
    ekv_proc_t *p = &st->tiers[i];
    if (i >= t->ntiers || strcmp(t->tiers[i].name, p->name) != 0)
        return EKV_EINVAL; /* the topology file changed since `up` */
    int port = -1;
    const char *colon = strrchr(p->url, ':');
    if (colon)
        port = atoi(colon + 1);
    char serve[sizeof p->serve];
    snprintf(serve, sizeof serve, "%s", p->serve); /* its PoPs reconnect there by themselves */
    if (world_keys(st, st->secure) != EKV_OK)
        return EKV_EINVAL;
    ekv_proc_stop(p, 2000);
    p->url[0] = '\0';
    if (launch_start_tier(t, i, st, port, serve) != EKV_OK)
        return EKV_EIO;
    int rc = launch_wait_ready(p, 1, "tier");
    if (rc == EKV_OK)
        save_state(st);
    return rc;
}

int ekv_launch_restart_coord(const ekv_topo_t *t, ekv_state_t *st)
{
    if (world_keys(st, st->secure) != EKV_OK)
        return EKV_EINVAL;
    ekv_proc_stop(&st->coord, 5000);
    int rc = start_coord(t, st, NULL, 0); /* on the recorded PUB, TCP or epgm */
    if (rc == EKV_OK)
        save_state(st);
    return rc;
}

/* `up --ui`: starts `edgekv ui --port PORT` as a daemon of the world, waits for the URL it
 * prints in its log, and records it. */
static int start_ui(ekv_state_t *st, long port)
{
    char log[PATH_MAX], portarg[24], *text = NULL;
    size_t len;
    snprintf(log, sizeof log, "%s/logs/ui.log", ekv_state_dir());
    snprintf(portarg, sizeof portarg, "%ld", port);
    unlink(log);
    snprintf(st->ui.name, sizeof st->ui.name, "ui");
    char *argv[] = {"edgekv", "ui", "--port", portarg, NULL};
    if (launch_spawn(argv, log, -1, NULL, &st->ui) != EKV_OK)
        return EKV_EIO;
    for (int waited = 0; waited < 10000 && !st->ui.url[0]; waited += 20) {
        if (ekv_file_read(log, 1 << 16, &text, &len) == EKV_OK) {
            static const char host[] = "http://127.0.0.1:";
            const char *at = strstr(text, host);
            size_t digits = at ? strspn(at + strlen(host), "0123456789") : 0;
            if (digits) /* "edgekv ui: http://127.0.0.1:PORT/ (...)" */
                snprintf(st->ui.url, sizeof st->ui.url, "%s%.*s", host, (int)digits,
                         at + strlen(host));
            free(text);
        }
        if (!st->ui.url[0] && !ekv_proc_alive(&st->ui))
            break;
        if (!st->ui.url[0])
            launch_sleep_ms(20);
    }
    if (!st->ui.url[0]) {
        fprintf(stderr, "edgekv: the live page did not start\n");
        launch_show_log_tail("ui");
        ekv_proc_stop(&st->ui, 2000);
        memset(&st->ui, 0, sizeof st->ui);
        return EKV_EIO;
    }
    return ekv_state_save(st) == EKV_OK ? EKV_OK : EKV_EIO;
}

/* `up --attach FILE`: records a world that runs elsewhere, for probe, verify, look, watch, ui
 * and the link faults; nothing is started here, and nothing of it is ever signalled. */
static int attach(const char *file)
{
    char err[1200];
    ekv_state_t *st = NULL;
    if (ekv_state_attach(file, &st, err, sizeof err) != EKV_OK) {
        fprintf(stderr, "edgekv: %s\n", err);
        return 1;
    }
    int ok = 0;
    if (already_running())
        ok = 0; /* said why */
    else if (make_dirs() != EKV_OK)
        fprintf(stderr, "edgekv: cannot create %s\n", ekv_state_dir());
    else if (save_state(st) != EKV_OK)
        fprintf(stderr, "edgekv: cannot write %s/state.json\n", ekv_state_dir());
    else
        ok = 1;
    if (ok) {
        print_table(st);
        printf("attached %zu PoPs", st->npops);
        if (st->ntiers)
            printf(" and %zu tier%s", st->ntiers, st->ntiers == 1 ? "" : "s");
        printf(" running elsewhere; state in %s (forget it with `edgekv down`)\n", ekv_state_dir());
    }
    ekv_state_destroy(&st);
    return ok ? 0 : 1;
}

int ekv_cmd_up(int argc, char **argv)
{
    const char *file = "topology.yaml", *attach_file = NULL;
    long ui_port = -1; /* -1: no page */
    int files = 0, bad = 0, netns = 0, netem = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--attach") && i + 1 < argc && !attach_file) {
            attach_file = argv[++i];
        } else if (!strcmp(argv[i], "--netns")) {
            netns = 1;
        } else if (!strcmp(argv[i], "--netem")) {
            netem = 1;
        } else if (!strcmp(argv[i], "--ui")) {
            ui_port = 0;
            if (i + 1 < argc && argv[i + 1][0] != '-' &&
                ekv_args_int(argv[i + 1], 0, 65535, &ui_port) == 0)
                i++;
        } else if (argv[i][0] == '-' || files++) {
            bad = 1;
        } else {
            file = argv[i];
        }
    }
    if (bad || (attach_file && (files || ui_port >= 0 || netns)) || (netem && !netns)) {
        fprintf(stderr, "usage: edgekv up [TOPOLOGY] [--ui [PORT]] [--netns [--netem]]\n"
                        "       edgekv up --attach WORLD.json\n");
        return 2;
    }
    if (attach_file)
        return attach(attach_file);
    char err[1024];
    ekv_topo_t *t = ekv_topo_load(file, err, sizeof err);
    if (!t) {
        fprintf(stderr, "edgekv: %s\n", err);
        return 1;
    }
    ekv_state_t st;
    int64_t t0 = ekv_mono_us();
    int rc = ekv_launch_start_netns(t, file, &st, netns, netem);
    if (rc == EKV_OK) {
        print_table(&st);
        printf("%zu PoPs", st.npops);
        if (st.ntiers)
            printf(" and %zu tier%s", st.ntiers, st.ntiers == 1 ? "" : "s");
        printf(" up in %.1f s; state in %s (stop with `edgekv down`)\n", (ekv_mono_us() - t0) / 1e6,
               ekv_state_dir());
        if (launch_is_epgm(st.pub))
            printf("changes and heartbeats published on %s\n", st.pub);
        if (st.netns)
            printf("%zu hosts in network namespaces, joined by bridge %s (%s)\n", st.nhosts,
                   st.bridge, st.bridge_address);
        if (ui_port >= 0 && start_ui(&st, ui_port) == EKV_OK)
            printf("live page: %s/ (docs/ui.md)\n", st.ui.url);
        else if (ui_port >= 0)
            rc = EKV_EIO; /* the world runs; `edgekv ui` can still be started by hand */
        free(st.pops);
        free(st.tiers);
    }
    ekv_topo_destroy(&t);
    return rc == EKV_OK ? 0 : 1;
}

int ekv_cmd_down(int argc, char **argv)
{
    (void)argv;
    if (argc > 1) {
        fprintf(stderr, "usage: edgekv down\n");
        return 2;
    }
    ekv_state_t *st = NULL;
    int rc = ekv_state_load(&st);
    if (rc == EKV_ENOTFOUND) {
        printf("edgekv: nothing is running (no state in %s)\n", ekv_state_dir());
        return 0;
    }
    if (rc != EKV_OK) {
        fprintf(stderr, "edgekv: %s/state.json is unreadable; stop the processes by hand\n",
                ekv_state_dir());
        return 1;
    }
    if (st->remote) { /* nothing of it runs here */
        remove_state();
        printf("edgekv: forgot the attached world (it runs elsewhere: stop it there)\n");
        ekv_state_destroy(&st);
        return 0;
    }
    size_t running = ekv_proc_alive(&st->coord) + (st->ui.pid > 0 && ekv_proc_alive(&st->ui));
    for (size_t i = 0; i < st->npops; i++)
        running += ekv_proc_alive(&st->pops[i]);
    for (size_t i = 0; i < st->ntiers; i++)
        running += ekv_proc_alive(&st->tiers[i]);
    stop_all(st);
    size_t left = ekv_proc_alive(&st->coord) + (st->ui.pid > 0 && ekv_proc_alive(&st->ui));
    for (size_t i = 0; i < st->npops; i++)
        left += ekv_proc_alive(&st->pops[i]);
    for (size_t i = 0; i < st->ntiers; i++)
        left += ekv_proc_alive(&st->tiers[i]);
    if (left == 0) {
        ekv_transport_undo();
        remove_state();
    }
    printf("edgekv: stopped %zu processes%s\n", running - left, left ? " (some remain!)" : "");
    ekv_state_destroy(&st);
    return left ? 1 : 0;
}

static void status_json(const ekv_state_t *st)
{
    char cpus[64];
    json_t *pops = json_array(), *tiers = json_array();
    for (size_t i = 0; i < st->npops; i++) {
        const ekv_proc_t *p = &st->pops[i];
        int alive = ekv_proc_alive(p);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:i, s:f, s:s, s:b, s:s}", "name", p->name, "city", p->city,
                      "url", p->url, "pid", p->pid, "delay_ms", p->delay_ms, "policy", p->policy,
                      "running", alive, "cpus", cpus_of(p, alive, cpus, sizeof cpus));
        if (p->tier[0])
            json_object_set_new(o, "tier", json_string(p->tier));
        if (p->host[0])
            json_object_set_new(o, "host", json_string(p->host));
        json_array_append_new(pops, o);
    }
    for (size_t i = 0; i < st->ntiers; i++) {
        const ekv_proc_t *p = &st->tiers[i];
        int alive = ekv_proc_alive(p);
        json_t *o =
            json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:b, s:s}", "name", p->name, "city", p->city,
                      "url", p->url, "serve", p->serve, "pid", p->pid, "delay_ms", p->delay_ms,
                      "running", alive, "cpus", cpus_of(p, alive, cpus, sizeof cpus));
        if (p->host[0])
            json_object_set_new(o, "host", json_string(p->host));
        json_array_append_new(tiers, o);
    }
    int alive = ekv_proc_alive(&st->coord);
    json_t *j =
        json_pack("{s:s, s:f, s:{s:s, s:i, s:s, s:s, s:b, s:s}, s:o}", "topology", st->topology,
                  "time_scale", st->time_scale, "coordinator", "url", st->coord.url, "pid",
                  st->coord.pid, "pub", st->pub, "router", st->router, "running", alive, "cpus",
                  cpus_of(&st->coord, alive, cpus, sizeof cpus), "pops", pops);
    json_object_set_new(j, "tiers", tiers);
    if (st->coord.host[0])
        json_object_set_new(json_object_get(j, "coordinator"), "host", json_string(st->coord.host));
    json_object_set_new(j, "secure", json_boolean(st->secure));
    if (st->netns) /* each host's namespace and veth, as state.json has them */
        json_object_set_new(j, "netns",
                            json_pack("{s:s, s:s, s:b}", "bridge", st->bridge, "address",
                                      st->bridge_address, "netem", st->netem));
    if (st->ui.pid > 0)
        json_object_set_new(j, "ui",
                            json_pack("{s:s, s:i, s:b}", "url", st->ui.url, "pid", st->ui.pid,
                                      "running", ekv_proc_alive(&st->ui)));
    char *text = json_dumps(j, JSON_INDENT(2));
    printf("%s\n", text);
    free(text);
    json_decref(j);
}

int ekv_cmd_status(int argc, char **argv)
{
    int json = argc > 1 && strcmp(argv[1], "--json") == 0;
    if (argc > 2 || (argc == 2 && !json)) {
        fprintf(stderr, "usage: edgekv status [--json]\n");
        return 2;
    }
    ekv_state_t *st = NULL;
    int rc = ekv_state_load(&st);
    if (rc != EKV_OK) {
        if (json)
            printf("{\"running\": false}\n");
        else
            printf("edgekv: nothing is running (no state in %s)\n", ekv_state_dir());
        return rc == EKV_ENOTFOUND ? 0 : 1;
    }
    if (json) {
        status_json(st);
    } else {
        print_table(st);
        if (st->ui.pid > 0)
            printf("live page %s/ (pid %d%s)\n", st->ui.url, st->ui.pid,
                   ekv_proc_alive(&st->ui) ? "" : ", not running");
    }
    ekv_state_destroy(&st);
    return 0;
}
