/* launch_nodes: the PoPs' and tiers' command lines, their start (through one zygote, nearest
 * first, or one by one) and the wait for their ready files (see launch_int.h).
 *
 * A node's settings come from the topology; its addresses from the state being built (the
 * coordinator's PUB and ROUTER, a PoP's tier). The state's proc records are filled in as
 * each node is described, started and found ready. */
#include "launch_int.h"

#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ekv_cpu.h"
#include "ekv_err.h"
#include "ekv_mem.h"
#include "launch.h"
#include "transport.h"

#define POPS_WAIT_MS 60000

/* A PoP's or tier's command line and the buffers it points into. */
typedef struct {
    char ready[PATH_MAX], log[PATH_MAX], http[160], delay[32], cache[32], scale[32], loss[32],
        rto[32], seed[32], minttl[32], jitter[48], cto[32], tier_delay[32], tier_ttl[32],
        serve[160], hot[32], late[32], skew[32];
    pgm_args_t pgm;
    char *argv[52];
    int argc;
    int cpu;        /* -1: any */
    const char *ns; /* its host's network namespace ("": none) */
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

/* --clock-skew-ms when the host's clock is skewed (clock_skew_ms: tests). */
static void skew_args(const ekv_topo_t *t, int host_index, pop_cmd_t *c)
{
    double skew = t->hosts[host_index].skew_ms;
    snprintf(c->skew, sizeof c->skew, "%g", skew);
    if (skew != 0)
        cmd_add(c, "--clock-skew-ms", c->skew, NULL);
}

/* The seconds the coordinator may stay silent before a node counts it as gone: 1 s, or three
 * missed heartbeats. */
static void coord_timeout(const ekv_topo_t *t, char *buf, size_t len)
{
    snprintf(buf, len, "%ld", lround(fmax(1000, 3 * t->coord.heartbeat_ms)));
}

double launch_netem_ms(const ekv_topo_t *t, const ekv_state_t *st, size_t i)
{
    int h = t->pops[i].host_index, c = t->coord.host_index;
    if (!st->netem || h == c)
        return 0;
    return (t->hosts[h].delay_ms + t->hosts[c].delay_ms) * t->time_scale;
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
    /* It listens on its own host (the coordinator's by default). */
    snprintf(p->host, sizeof p->host, "%s", t->hosts[tp->host_index].name);
    snprintf(c->http, sizeof c->http, "%s:%d", ekv_topo_address(t, tp->host_index), port);
    /* Simulated: the node scales. The kernel's share (--netem) is not simulated again. */
    snprintf(c->delay, sizeof c->delay, "%.4f", fmax(0, p->delay_ms - launch_netem_ms(t, st, i)));
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
    skew_args(t, tp->host_index, c);
    c->ns = launch_host_ns(st, tp->host_index);
    c->cpu = t->pin_cpus ? ekv_cpu_spread(i) : -1;
    if (launch_is_epgm(st->pub)) {
        launch_pgm_args(t, &c->pgm);
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
    const char *addr = ekv_topo_address(t, tt->host_index);
    snprintf(p->host, sizeof p->host, "%s", t->hosts[tt->host_index].name);
    snprintf(c->http, sizeof c->http, "%s:%d", addr, port < 0 ? 0 : port);
    if (serve && *serve)
        snprintf(c->serve, sizeof c->serve, "%s", serve);
    else
        snprintf(c->serve, sizeof c->serve, "tcp://%s:*", addr);
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
    skew_args(t, tt->host_index, c);
    c->ns = launch_host_ns(st, tt->host_index);
    if (launch_is_epgm(st->pub)) {
        launch_pgm_args(t, &c->pgm);
        cmd_add(c, "--pub-rate-kbps", c->pgm.rate, "--pub-recovery-ms", c->pgm.recovery, NULL);
    }
    /* Spread after the PoPs' CPUs. */
    c->cpu = t->pin_cpus ? ekv_cpu_spread(t->npops + i) : -1;
}

/* Starts PoP i on its own (a restart); port as for pop_cmd. */
int launch_start_pop(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port)
{
    pop_cmd_t *c = ekv_malloc(sizeof *c);
    pop_cmd(t, i, st, port, c);
    int rc = launch_spawn(c->argv, c->log, c->cpu, c->ns, &st->pops[i]);
    free(c);
    return rc;
}

int launch_start_tier(const ekv_topo_t *t, size_t i, ekv_state_t *st, int port, const char *serve)
{
    pop_cmd_t *c = ekv_malloc(sizeof *c);
    tier_cmd(t, i, st, port, serve, c);
    int rc = launch_spawn(c->argv, c->log, c->cpu, c->ns, &st->tiers[i]);
    free(c);
    return rc;
}

/* Asks one `edgekv-node --zygote` (node/zygote.h) for all n PoPs: forked from one loaded
 * process they share its relocated library pages, which at hundreds of PoPs makes every
 * delivered change cheaper. They are forked in the order of order[] (indexes into cmds and
 * procs). The zygote runs in network namespace ns (its forks too). Records each PoP it
 * started; the rest keep pid 0. */
static void start_forked(pop_cmd_t *cmds, size_t n, ekv_proc_t *procs, const size_t *order,
                         const char *ns)
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
        if (*ns && ekv_netns_enter(ns) != 0)
            _exit(127);
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
            launch_adopt(&procs[order[k]], (pid_t)pid);
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

/* Starts the n PoPs or tiers of cmds: through a zygote per network namespace (one without
 * --netns), nearest first, and one by one any it did not. */
static int start_all(pop_cmd_t *cmds, size_t n, ekv_proc_t *procs)
{
    size_t *order = nearest_first(procs, n), *group = ekv_malloc((n ? n : 1) * sizeof *group);
    for (size_t k = 0; k < n; k++) {
        const char *ns = cmds[order[k]].ns;
        size_t m = 0, first = 1;
        for (size_t j = 0; j < k; j++) /* a namespace seen before has had its zygote */
            first &= strcmp(cmds[order[j]].ns, ns) != 0;
        for (size_t j = k; first && j < n; j++)
            if (!strcmp(cmds[order[j]].ns, ns))
                group[m++] = order[j];
        if (m)
            start_forked(cmds, m, procs, group, ns);
    }
    free(group);
    int rc = EKV_OK;
    for (size_t k = 0; rc == EKV_OK && k < n; k++)
        if (procs[order[k]].pid <= 0)
            rc = launch_spawn(cmds[order[k]].argv, cmds[order[k]].log, cmds[order[k]].cpu,
                              cmds[order[k]].ns, &procs[order[k]]);
    free(order);
    return rc;
}

/* Starts every PoP of the topology. */
int launch_start_pops(const ekv_topo_t *t, ekv_state_t *st)
{
    pop_cmd_t *cmds = ekv_calloc(t->npops, sizeof *cmds);
    for (size_t i = 0; i < t->npops; i++)
        pop_cmd(t, i, st, -1, &cmds[i]);
    int rc = start_all(cmds, t->npops, st->pops);
    free(cmds);
    return rc;
}

/* Starts every tier of the topology, as the PoPs are started. */
int launch_start_tiers(const ekv_topo_t *t, ekv_state_t *st)
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
int launch_wait_ready(ekv_proc_t *procs, size_t n, const char *what)
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
            json_t *j = launch_read_ready(path);
            if (j) {
                snprintf(p->url, sizeof p->url, "%s", json_string_value(json_object_get(j, "url")));
                const char *serve = json_string_value(json_object_get(j, "serve"));
                if (serve)
                    snprintf(p->serve, sizeof p->serve, "%s", serve);
                json_decref(j);
                ready++;
            } else if (!ekv_proc_alive(p)) {
                fprintf(stderr, "edgekv: %s %s exited during start-up\n", what, p->name);
                launch_show_log_tail(p->name);
                return EKV_EIO;
            }
        }
        if (ready < n)
            launch_sleep_ms(20);
    }
    if (ready == n)
        return EKV_OK;
    fprintf(stderr, "edgekv: %zu of %zu %ss did not become ready\n", n - ready, n, what);
    return EKV_ETIMEDOUT;
}

int launch_wait_pops(ekv_state_t *st)
{
    return launch_wait_ready(st->pops, st->npops, "PoP");
}
