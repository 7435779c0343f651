/* launch: starting, recording and stopping a topology (see launch.h). */
#include "launch.h"

#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <libgen.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "ekv_args.h"
#include "ekv_cpu.h"
#include "ekv_daemon.h"
#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "ekv_time.h"
#include "state.h"
#include "text.h"
#include "topology.h"
#include "transport.h"

#define COORD_WAIT_MS 15000
#define POPS_WAIT_MS  60000

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
static void adopt(ekv_proc_t *p, pid_t pid)
{
    p->pid = pid;
    for (int i = 0; i < 100 && !(p->start = ekv_proc_start_time(pid)); i++)
        usleep(1000);
}

/* Starts argv[0] (a program beside edgekv) in a new session, output to logpath, on CPU cpu
 * alone (every thread it starts inherits that) or anywhere when cpu < 0. */
static int spawn(char *const argv[], const char *logpath, int cpu, ekv_proc_t *p)
{
    char prog[PATH_MAX + 64];
    snprintf(prog, sizeof prog, "%s/%s", ekv_bin_dir(), argv[0]);
    pid_t pid = fork();
    if (pid < 0)
        return EKV_EIO;
    if (pid == 0) {
        ekv_daemon_detach(logpath, cpu, "edgekv");
        execv(prog, argv);
        fprintf(stderr, "edgekv: cannot run %s: %s\n", prog, strerror(errno));
        _exit(127);
    }
    adopt(p, pid);
    return EKV_OK;
}

static void sleep_ms(int ms)
{
    nanosleep(&(struct timespec){ms / 1000, (ms % 1000) * 1000000L}, NULL);
}

/* Reads a ready file written by a daemon; NULL until it exists. */
static json_t *read_ready(const char *path)
{
    return access(path, F_OK) == 0 ? json_load_file(path, 0, NULL) : NULL;
}

static void show_log_tail(const char *name)
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

/* The --pub-rate-kbps and --pub-recovery-ms arguments every daemon gets with an epgm PUB:
 * PoPs and tiers keep the coordinator's repair window. */
typedef struct {
    char rate[16], recovery[16];
} pgm_args_t;

static int is_epgm(const char *endpoint)
{
    return !strncmp(endpoint, "epgm://", 7);
}

static void pgm_args(const ekv_topo_t *t, pgm_args_t *a)
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
        hb[32], dur[sizeof c->durability], scale[32], api[32];
    pgm_args_t pa;
    pgm_args(t, &pa);
    snprintf(data, sizeof data, "%s/coordinator-db", ekv_state_dir());
    snprintf(ready, sizeof ready, "%s/run/coordinator.ready", ekv_state_dir());
    snprintf(log, sizeof log, "%s/logs/coordinator.log", ekv_state_dir());
    snprintf(pub, sizeof pub, "tcp://%s:%s", c->host, c->pub_port ? "" : "*");
    snprintf(router, sizeof router, "tcp://%s:%s", c->host, c->router_port ? "" : "*");
    if (c->pub_port)
        snprintf(pub, sizeof pub, "tcp://%s:%d", c->host, c->pub_port);
    if (epgm)
        snprintf(pub, sizeof pub, "%s", epgm);
    if (c->router_port)
        snprintf(router, sizeof router, "tcp://%s:%d", c->host, c->router_port);
    snprintf(http, sizeof http, "%s:%d", c->host, c->http_port);
    if (st->pub[0]) { /* a restart: the same addresses, so the PoPs reconnect by themselves */
        snprintf(pub, sizeof pub, "%s", st->pub);
        snprintf(router, sizeof router, "%s", st->router);
        const char *colon = strrchr(st->coord.url, ':');
        snprintf(http, sizeof http, "%s:%d", c->host, colon ? atoi(colon + 1) : c->http_port);
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
                    NULL};
    if (is_epgm(pub)) {
        char **end = argv + sizeof argv / sizeof *argv - 5;
        end[0] = "--pub-rate-kbps", end[1] = pa.rate;
        end[2] = "--pub-recovery-ms", end[3] = pa.recovery;
    }
    snprintf(st->coord.name, sizeof st->coord.name, "coordinator");
    snprintf(st->coord.city, sizeof st->coord.city, "%s", c->city);
    if (spawn(argv, log, -1, &st->coord) != EKV_OK)
        return EKV_EIO;
    for (int waited = 0; waited < COORD_WAIT_MS; waited += 20) {
        json_t *j = read_ready(ready);
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
        sleep_ms(20);
    }
    ekv_proc_stop(&st->coord, 2000);
    if (quiet)
        return EKV_EIO;
    fprintf(stderr, "edgekv: the coordinator did not start\n");
    show_log_tail("coordinator");
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
        show_log_tail("coordinator");
        return EKV_EIO;
    }
    fprintf(stderr, "edgekv: cannot publish over epgm (%s); staying on TCP\n", why);
    ekv_transport_undo();
    return start_coord(t, st, NULL, 0);
}

/* A PoP's or tier's command line and the buffers it points into. */
typedef struct {
    char ready[PATH_MAX], log[PATH_MAX], http[160], delay[32], cache[32], scale[32], loss[32],
        rto[32], seed[32], minttl[32], jitter[48], cto[32], tier_delay[32], tier_ttl[32],
        serve[160], hot[32], late[32];
    pgm_args_t pgm;
    char *argv[52];
    int argc;
    int cpu; /* -1: any */
} pop_cmd_t;

/* Appends arguments (up to a NULL) to c's command line. */
static void cmd_add(pop_cmd_t *c, ...)
{
    va_list ap;
    va_start(ap, c);
    for (char *a;
         (a = va_arg(ap, char *)) != NULL && c->argc + 1 < (int)(sizeof c->argv / sizeof *c->argv);)
        c->argv[c->argc++] = a;
    c->argv[c->argc] = NULL;
    va_end(ap);
}

/* The topology's refresh-ahead settings on c's command line. */
static void refresh_args(const ekv_topo_t *t, pop_cmd_t *c)
{
    snprintf(c->hot, sizeof c->hot, "%d", t->refresh_hot_reads);
    snprintf(c->late, sizeof c->late, "%g", t->refresh_late);
    cmd_add(c, "--refresh-hot-reads", c->hot, "--refresh-late", c->late, NULL);
}

/* The seconds the coordinator may stay silent before a node counts it as gone: 1 s, or three
 * missed heartbeats. */
static void coord_timeout(const ekv_topo_t *t, char *buf, size_t len)
{
    snprintf(buf, len, "%ld", lround(fmax(1000, 3 * t->coord.heartbeat_ms)));
}

/* Describes PoP i (and clears its old ready file); port -1 = the topology's (base + 1 + i,
 * or any when the base is 0). */
static void pop_cmd(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port, pop_cmd_t *c)
{
    const ekv_topo_pop_t *tp = &t->pops[i];
    ekv_proc_t *p = &st->pops[i];
    snprintf(p->name, sizeof p->name, "%s", tp->name);
    snprintf(p->city, sizeof p->city, "%s", tp->city);
    snprintf(p->policy, sizeof p->policy, "%s", ekv_topo_policy(t, tp));
    p->delay_ms = ekv_topo_delay_ms(t, tp);
    snprintf(c->ready, sizeof c->ready, "%s/run/%s.ready", ekv_state_dir(), tp->name);
    snprintf(c->log, sizeof c->log, "%s/logs/%s.log", ekv_state_dir(), tp->name);
    if (port < 0)
        port = t->http_port_base ? t->http_port_base + 1 + (int)i : 0;
    snprintf(c->http, sizeof c->http, "%s:%d", t->coord.host, port);
    snprintf(c->delay, sizeof c->delay, "%.4f", p->delay_ms); /* simulated: the node scales */
    snprintf(c->cache, sizeof c->cache, "%d", (int)ceil(t->cache_mb));
    snprintf(c->scale, sizeof c->scale, "%g", t->time_scale);
    snprintf(c->loss, sizeof c->loss, "%g", ekv_topo_loss(t, tp));
    snprintf(c->rto, sizeof c->rto, "%g", t->rto_ms);
    snprintf(c->seed, sizeof c->seed, "%ld", t->seed + (long)i);
    snprintf(c->minttl, sizeof c->minttl, "%d", (int)t->min_cache_ttl);
    snprintf(c->jitter, sizeof c->jitter, "%s", ekv_topo_jitter(t, tp));
    coord_timeout(t, c->cto, sizeof c->cto);
    unlink(c->ready);
    char *argv[] = {
        "edgekv-node",  "--name",   p->name,           "--http",     c->http,
        "--pub",        st->pub,    "--router",        st->router,   "--delay-ms",
        c->delay,       "--policy", p->policy,         "--cache-mb", c->cache,
        "--ready-file", c->ready,   "--time-scale",    c->scale,     "--jitter",
        c->jitter,      "--loss",   c->loss,           "--rto-ms",   c->rto,
        "--seed",       c->seed,    "--min-cache-ttl", c->minttl,    "--coordinator-timeout-ms",
        c->cto,         NULL};
    _Static_assert(sizeof argv <= sizeof c->argv, "pop_cmd_t.argv too small");
    memcpy(c->argv, argv, sizeof argv);
    c->argc = (int)(sizeof argv / sizeof *argv) - 1;
    /* Refresh-ahead settings (the kv policy's; tiers always refresh hot copies ahead). */
    refresh_args(t, c);
    c->cpu = t->pin_cpus ? ekv_cpu_spread(i) : -1;
    if (is_epgm(st->pub)) {
        pgm_args(t, &c->pgm);
        cmd_add(c, "--pub-rate-kbps", c->pgm.rate, "--pub-recovery-ms", c->pgm.recovery, NULL);
    }
    /* Its reads go through its tier (started and recorded before the PoPs). */
    const ekv_topo_tier_t *tier = ekv_topo_pop_tier(t, tp);
    p->tier[0] = '\0';
    for (size_t k = 0; tier && k < st->ntiers; k++) {
        if (strcmp(st->tiers[k].name, tier->name) != 0)
            continue;
        snprintf(p->tier, sizeof p->tier, "%s", tier->name);
        snprintf(c->serve, sizeof c->serve, "%s", st->tiers[k].serve);
        snprintf(c->tier_delay, sizeof c->tier_delay, "%.4f",
                 ekv_topo_pop_tier_delay_ms(t, tp, tier));
        cmd_add(c, "--tier", c->serve, "--tier-delay-ms", c->tier_delay, NULL);
    }
}

/* Describes tier i (and clears its old ready file); port and serve as recorded for a restart
 * (port -1, serve NULL: any free port). */
static void tier_cmd(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port, const char *serve,
                     pop_cmd_t *c)
{
    const ekv_topo_tier_t *tt = &t->tiers[i];
    ekv_proc_t *p = &st->tiers[i];
    snprintf(p->name, sizeof p->name, "%s", tt->name);
    snprintf(p->city, sizeof p->city, "%s", tt->city);
    snprintf(p->policy, sizeof p->policy, "kv");
    p->delay_ms = ekv_topo_tier_delay_ms(t, tt);
    snprintf(c->ready, sizeof c->ready, "%s/run/%s.ready", ekv_state_dir(), tt->name);
    snprintf(c->log, sizeof c->log, "%s/logs/%s.log", ekv_state_dir(), tt->name);
    snprintf(c->http, sizeof c->http, "%s:%d", t->coord.host, port < 0 ? 0 : port);
    if (serve && *serve)
        snprintf(c->serve, sizeof c->serve, "%s", serve);
    else
        snprintf(c->serve, sizeof c->serve, "tcp://%s:*", t->coord.host);
    snprintf(c->delay, sizeof c->delay, "%.4f", p->delay_ms);
    snprintf(c->cache, sizeof c->cache, "%d", (int)ceil(t->cache_mb));
    snprintf(c->scale, sizeof c->scale, "%g", t->time_scale);
    snprintf(c->loss, sizeof c->loss, "%g", t->loss);
    snprintf(c->rto, sizeof c->rto, "%g", t->rto_ms);
    snprintf(c->seed, sizeof c->seed, "%ld", t->seed + (long)t->npops + (long)i);
    snprintf(c->minttl, sizeof c->minttl, "%d", (int)t->min_cache_ttl);
    snprintf(c->jitter, sizeof c->jitter, "%s", t->jitter);
    snprintf(c->tier_ttl, sizeof c->tier_ttl, "%ld", lround(ekv_topo_tier_cache_ttl(t, tt)));
    coord_timeout(t, c->cto, sizeof c->cto);
    unlink(c->ready);
    c->argc = 0;
    cmd_add(c, "edgekv-node", "--role", "tier", "--name", p->name, "--http", c->http, "--pub",
            st->pub, "--router", st->router, "--serve", c->serve, "--delay-ms", c->delay,
            "--policy", "kv", "--tier-cache-ttl", c->tier_ttl, "--cache-mb", c->cache,
            "--ready-file", c->ready, "--time-scale", c->scale, "--jitter", c->jitter, "--loss",
            c->loss, "--rto-ms", c->rto, "--seed", c->seed, "--min-cache-ttl", c->minttl,
            "--coordinator-timeout-ms", c->cto, NULL);
    if (t->tier_purge_on_write)
        cmd_add(c, "--purge-on-write", NULL);
    refresh_args(t, c);
    if (is_epgm(st->pub)) {
        pgm_args(t, &c->pgm);
        cmd_add(c, "--pub-rate-kbps", c->pgm.rate, "--pub-recovery-ms", c->pgm.recovery, NULL);
    }
    /* Spread after the PoPs' CPUs. */
    c->cpu = t->pin_cpus ? ekv_cpu_spread(t->npops + i) : -1;
}

/* Starts PoP i on its own (a restart); port as for pop_cmd. */
static int start_pop(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port)
{
    pop_cmd_t *c = ekv_malloc(sizeof *c);
    pop_cmd(t, i, st, port, c);
    int rc = spawn(c->argv, c->log, c->cpu, &st->pops[i]);
    free(c);
    return rc;
}

/* Asks one `edgekv-node --zygote` (node/zygote.h) for all n PoPs: forked from one loaded
 * process they share its relocated library pages, which at hundreds of PoPs makes every
 * delivered change cheaper. They are forked in the order of order[] (indexes into cmds and
 * procs). Records each PoP it started; the rest keep pid 0. */
static void start_forked(pop_cmd_t *cmds, size_t n, ekv_proc_t *procs, const size_t *order)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        return;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        return;
    }
    char prog[PATH_MAX + 64];
    snprintf(prog, sizeof prog, "%s/edgekv-node", ekv_bin_dir());
    pid_t z = fork();
    if (z == 0) {
        dup2(in[0], 0); /* the copies lose O_CLOEXEC */
        dup2(out[1], 1);
        execl(prog, "edgekv-node", "--zygote", (char *)NULL);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    if (z < 0) {
        close(in[1]);
        close(out[0]);
        return;
    }
    /* Every request is written before any answer is read: the answers (a short line per PoP,
     * at most 2,000 PoPs per topology) fit in a pipe's buffer, so the zygote never blocks on
     * them. A zygote that died early must not take this process with it through SIGPIPE. */
    struct sigaction ign = {.sa_handler = SIG_IGN}, old;
    sigaction(SIGPIPE, &ign, &old);
    FILE *w = fdopen(in[1], "w");
    for (size_t k = 0; w && k < n; k++) {
        const pop_cmd_t *c = &cmds[order[k]];
        fprintf(w, "%d%c%s%c%d%c", c->cpu, 0, c->log, 0, c->argc, 0);
        for (int a = 0; a < c->argc; a++)
            fprintf(w, "%s%c", c->argv[a], 0);
    }
    if (w)
        fclose(w); /* the end of the requests */
    else
        close(in[1]);
    sigaction(SIGPIPE, &old, NULL);
    FILE *r = fdopen(out[0], "r");
    char line[256];
    for (size_t k = 0; r && k < n && fgets(line, sizeof line, r); k++) {
        long pid = strtol(line, NULL, 10);
        if (pid > 0)
            adopt(&procs[order[k]], (pid_t)pid);
        else
            fprintf(stderr, "edgekv: the zygote could not start %s: %s", procs[order[k]].name,
                    line + strspn(line, "-1 "));
    }
    if (r)
        fclose(r);
    else
        close(out[0]);
    waitpid(z, NULL, 0);
}

static const ekv_proc_t *g_sort_procs; /* for by_delay: qsort has no context argument */

static int by_delay(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    double x = g_sort_procs[i].delay_ms, y = g_sort_procs[j].delay_ms;
    return x < y ? -1 : x > y ? 1 : (i > j) - (i < j);
}

/* The indexes of n processes, nearest first (by configured delay, then topology order). The
 * coordinator's PUB writes a change to its subscribers one after another in the order they
 * connected, so the last ones get it some milliseconds late at hundreds of PoPs; a far PoP's
 * delay line absorbs that, a near one's cannot (arrival p99 at 300 PoPs 8.4-10 ms in file
 * order, 2.6-2.9 ms nearest first: docs/performance.md, arrival). */
static size_t *nearest_first(const ekv_proc_t *procs, size_t n)
{
    size_t *order = ekv_malloc((n ? n : 1) * sizeof *order);
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    g_sort_procs = procs;
    qsort(order, n, sizeof *order, by_delay);
    return order;
}

/* Starts the n PoPs or tiers of cmds: through the zygote, nearest first, and one by one any
 * it did not. */
static int start_all(pop_cmd_t *cmds, size_t n, ekv_proc_t *procs)
{
    size_t *order = nearest_first(procs, n);
    start_forked(cmds, n, procs, order);
    int rc = EKV_OK;
    for (size_t k = 0; rc == EKV_OK && k < n; k++)
        if (procs[order[k]].pid <= 0)
            rc = spawn(cmds[order[k]].argv, cmds[order[k]].log, cmds[order[k]].cpu,
                       &procs[order[k]]);
    free(order);
    return rc;
}

/* Starts every PoP of the topology. */
static int start_pops(const ekv_topo_t *t, ekv_state_t *st)
{
    pop_cmd_t *cmds = ekv_calloc(t->npops, sizeof *cmds);
    for (size_t i = 0; i < t->npops; i++)
        pop_cmd(t, i, st, -1, &cmds[i]);
    int rc = start_all(cmds, t->npops, st->pops);
    free(cmds);
    return rc;
}

/* Starts every tier of the topology, as the PoPs are started. */
static int start_tiers(const ekv_topo_t *t, ekv_state_t *st)
{
    if (t->ntiers == 0)
        return EKV_OK;
    pop_cmd_t *cmds = ekv_calloc(t->ntiers, sizeof *cmds);
    for (size_t i = 0; i < t->ntiers; i++)
        tier_cmd(t, i, st, -1, NULL, &cmds[i]);
    int rc = start_all(cmds, t->ntiers, st->tiers);
    free(cmds);
    return rc;
}

/* Waits until each of the n processes (PoPs or tiers) has written its ready file; fills in
 * their URLs and, for tiers, the endpoint they serve at. */
static int wait_ready(ekv_proc_t *procs, size_t n, const char *what)
{
    size_t ready = 0;
    for (int waited = 0; waited < POPS_WAIT_MS && ready < n; waited += 20) {
        ready = 0;
        for (size_t i = 0; i < n; i++) {
            ekv_proc_t *p = &procs[i];
            if (p->url[0]) {
                ready++;
                continue;
            }
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/run/%s.ready", ekv_state_dir(), p->name);
            json_t *j = read_ready(path);
            if (j) {
                snprintf(p->url, sizeof p->url, "%s", json_string_value(json_object_get(j, "url")));
                const char *serve = json_string_value(json_object_get(j, "serve"));
                if (serve)
                    snprintf(p->serve, sizeof p->serve, "%s", serve);
                json_decref(j);
                ready++;
            } else if (!ekv_proc_alive(p)) {
                fprintf(stderr, "edgekv: %s %s exited during start-up\n", what, p->name);
                show_log_tail(p->name);
                return EKV_EIO;
            }
        }
        if (ready < n)
            sleep_ms(20);
    }
    if (ready == n)
        return EKV_OK;
    fprintf(stderr, "edgekv: %zu of %zu %ss did not become ready\n", n - ready, n, what);
    return EKV_ETIMEDOUT;
}

static int wait_pops(ekv_state_t *st)
{
    return wait_ready(st->pops, st->npops, "PoP");
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
    int alive = ekv_proc_alive(&st->coord);
    for (size_t i = 0; !alive && i < st->npops; i++)
        alive = ekv_proc_alive(&st->pops[i]);
    for (size_t i = 0; !alive && i < st->ntiers; i++)
        alive = ekv_proc_alive(&st->tiers[i]);
    if (alive)
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

int ekv_launch_start(const ekv_topo_t *t, const char *path, ekv_state_t *st)
{
    memset(st, 0, sizeof *st);
    if (already_running())
        return EKV_EEXIST;
    if (make_dirs() != EKV_OK) {
        fprintf(stderr, "edgekv: cannot create %s\n", ekv_state_dir());
        return EKV_EIO;
    }
    if (!realpath(path, st->topology))
        snprintf(st->topology, sizeof st->topology, "%s", path);
    st->time_scale = t->time_scale;
    st->pops = ekv_calloc(t->npops, sizeof *st->pops);
    st->npops = t->npops;
    st->tiers = ekv_calloc(t->ntiers + 1, sizeof *st->tiers);
    st->ntiers = t->ntiers;
    int rc = start_coord_on(t, st);
    /* The tiers first: each PoP is told its tier's endpoint, which a tier learns at binding. */
    if (rc == EKV_OK)
        rc = start_tiers(t, st);
    if (rc == EKV_OK)
        rc = wait_ready(st->tiers, st->ntiers, "tier");
    if (rc == EKV_OK)
        rc = start_pops(t, st);
    if (rc == EKV_OK)
        rc = wait_pops(st);
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
    ekv_proc_stop(p, 2000);
    p->url[0] = '\0';
    if (start_pop(t, i, st, port) != EKV_OK)
        return EKV_EIO;
    int rc = wait_pops(st);
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
    ekv_proc_stop(p, 2000);
    p->url[0] = '\0';
    pop_cmd_t *c = ekv_malloc(sizeof *c);
    tier_cmd(t, i, st, port, serve, c);
    int rc = spawn(c->argv, c->log, c->cpu, p);
    free(c);
    if (rc != EKV_OK)
        return EKV_EIO;
    rc = wait_ready(p, 1, "tier");
    if (rc == EKV_OK)
        save_state(st);
    return rc;
}

int ekv_launch_restart_coord(const ekv_topo_t *t, ekv_state_t *st)
{
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
    if (spawn(argv, log, -1, &st->ui) != EKV_OK)
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
            sleep_ms(20);
    }
    if (!st->ui.url[0]) {
        fprintf(stderr, "edgekv: the live page did not start\n");
        show_log_tail("ui");
        ekv_proc_stop(&st->ui, 2000);
        memset(&st->ui, 0, sizeof st->ui);
        return EKV_EIO;
    }
    return ekv_state_save(st) == EKV_OK ? EKV_OK : EKV_EIO;
}

int ekv_cmd_up(int argc, char **argv)
{
    const char *file = "topology.yaml";
    long ui_port = -1; /* -1: no page */
    int files = 0, bad = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--ui")) {
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
    if (bad) {
        fprintf(stderr, "usage: edgekv up [TOPOLOGY] [--ui [PORT]]\n");
        return 2;
    }
    char err[1024];
    ekv_topo_t *t = ekv_topo_load(file, err, sizeof err);
    if (!t) {
        fprintf(stderr, "edgekv: %s\n", err);
        return 1;
    }
    ekv_state_t st;
    int64_t t0 = ekv_mono_us();
    int rc = ekv_launch_start(t, file, &st);
    if (rc == EKV_OK) {
        print_table(&st);
        printf("%zu PoPs", st.npops);
        if (st.ntiers)
            printf(" and %zu tier%s", st.ntiers, st.ntiers == 1 ? "" : "s");
        printf(" up in %.1f s; state in %s (stop with `edgekv down`)\n", (ekv_mono_us() - t0) / 1e6,
               ekv_state_dir());
        if (is_epgm(st.pub))
            printf("changes and heartbeats published on %s\n", st.pub);
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
        json_array_append_new(pops, o);
    }
    for (size_t i = 0; i < st->ntiers; i++) {
        const ekv_proc_t *p = &st->tiers[i];
        int alive = ekv_proc_alive(p);
        json_array_append_new(tiers,
                              json_pack("{s:s, s:s, s:s, s:s, s:i, s:f, s:b, s:s}", "name", p->name,
                                        "city", p->city, "url", p->url, "serve", p->serve, "pid",
                                        p->pid, "delay_ms", p->delay_ms, "running", alive, "cpus",
                                        cpus_of(p, alive, cpus, sizeof cpus)));
    }
    int alive = ekv_proc_alive(&st->coord);
    json_t *j =
        json_pack("{s:s, s:f, s:{s:s, s:i, s:s, s:s, s:b, s:s}, s:o}", "topology", st->topology,
                  "time_scale", st->time_scale, "coordinator", "url", st->coord.url, "pid",
                  st->coord.pid, "pub", st->pub, "router", st->router, "running", alive, "cpus",
                  cpus_of(&st->coord, alive, cpus, sizeof cpus), "pops", pops);
    json_object_set_new(j, "tiers", tiers);
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
