/* edgekv-node: reads its options (one table, below), builds one PoP, runs the loop, tears
 * down; or, as `edgekv-node --zygote`, forks PoPs on request (zygote.h). */
#include <event2/event.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_args.h"
#include "ekv_err.h"
#include "ekv_http.h"
#include "ekv_log.h"
#include "ekv_loop.h"
#include "ekv_opts.h"
#include "ekv_sec.h"
#include "ekv_time.h"
#include "node.h"
#include "zygote.h"

/* The options as typed; configure() turns them into the node's and the HTTP guard's
 * configuration. The defaults come from those two (opts_defaults). */
typedef struct {
    const char *name, *http, *pub, *router, *jitter, *ns, *ready_file, *serve, *tier;
    double delay_ms, loss, rto_ms, time_scale, refresh_late, tier_delay_ms, clock_skew_ms;
    long seed, coordinator_timeout_ms, cache_mb, min_cache_ttl, origin_timeout_ms;
    long refresh_hot_reads, tier_cache_ttl, pub_rate_kbps, pub_recovery_ms;
    ekv_http_opts_t limits; /* the HTTP guard's */
    int policy, verbose, role, purge_on_write;
} opts_t;

static int check_jitter(const char *s)
{
    ekv_link_model_t m = {0};
    return ekv_link_parse_jitter(s, &m);
}

static const char *const policies[] = {"push", "push-all", "invalidate", "ttl", "kv", NULL};
static const int policy_values[] = {EKV_POLICY_PUSH, EKV_POLICY_PUSH_ALL, EKV_POLICY_INVALIDATE,
                                    EKV_POLICY_TTL, EKV_POLICY_KV};

enum { ROLE_POP, ROLE_TIER };
static const char *const roles[] = {"pop", "tier", NULL};
static const int role_values[] = {ROLE_POP, ROLE_TIER};

#define O(field) offsetof(opts_t, field)
static const ekv_opt_t table[] = {
    {"name", EKV_OPT_STRING, O(name), "NAME", .help = "PoP name", .check = ekv_args_name},
    {"http", EKV_OPT_STRING, O(http), "HOST:PORT", .help = "HTTP listener; port 0: any free port",
     .check = ekv_args_is_hostport},
    {"pub", EKV_OPT_STRING, O(pub), "ENDPOINT", .help = "coordinator PUB"},
    {"router", EKV_OPT_STRING, O(router), "ENDPOINT", .help = "coordinator ROUTER"},
    {"pub-rate-kbps", EKV_OPT_INT, O(pub_rate_kbps), "N",
     .help = "with an epgm:// PUB: the coordinator's PGM rate,\nkbit/s", .min = 1, .max = 10000000},
    {"pub-recovery-ms", EKV_OPT_INT, O(pub_recovery_ms), "N",
     .help = "with an epgm:// PUB: the coordinator's recovery\ninterval", .min = 1, .max = 600000},
    {"delay-ms", EKV_OPT_DOUBLE, O(delay_ms), "MS", .help = "one-way link delay to the coordinator",
     .dmax = 600000},
    {"jitter", EKV_OPT_STRING, O(jitter), "SPEC",
     .help = "none, uniform:MS, normal:MS or pareto:MS:SHAPE", .check = check_jitter},
    {"loss", EKV_OPT_DOUBLE, O(loss), "P", .help = "probability a transmission is lost",
     .dmax = 0.9},
    {"rto-ms", EKV_OPT_DOUBLE, O(rto_ms), "MS", .help = "retransmission timeout paid per loss",
     .dmax = 600000},
    {"seed", EKV_OPT_INT, O(seed), "N", .help = "seed of the link's random draws", .max = LONG_MAX},
    {"time-scale", EKV_OPT_DOUBLE, O(time_scale), "S",
     .help = "simulated durations (delays, cacheTtl) run S times faster", .dmin = 0.001,
     .dmax = 100000},
    {"coordinator-timeout-ms", EKV_OPT_INT, O(coordinator_timeout_ms), "N",
     .help = "no heartbeat for N ms: fail writes and misses fast", .min = 1, .max = 3600000},
    {"policy", EKV_OPT_ENUM, O(policy), "P", .help = "propagation policy", .names = policies,
     .values = policy_values},
    {"namespace", EKV_OPT_STRING, O(ns), "ID", .help = "default namespace id",
     .check = ekv_args_name},
    {"cache-mb", EKV_OPT_INT, O(cache_mb), "N", .help = "cache memory cap in MiB", .min = 1,
     .max = 1 << 20},
    {"min-cache-ttl", EKV_OPT_INT, O(min_cache_ttl), "S", .help = "smallest cacheTtl accepted",
     .min = 1, .max = 1L << 30},
    {"origin-timeout-ms", EKV_OPT_INT, O(origin_timeout_ms), "N",
     .help = "coordinator requests fail with 503 after N ms", .min = 1, .max = 3600000},
    {"refresh-hot-reads", EKV_OPT_INT, O(refresh_hot_reads), "N",
     .help = "kv: a copy read N times since stored is hot (at most\n255); 0: no refresh-ahead",
     .min = 0, .max = 255},
    {"refresh-late", EKV_OPT_DOUBLE, O(refresh_late), "F",
     .help = "kv: a hot copy read past F of its cacheTtl is refreshed in\nthe background",
     .dmin = 0, .dmax = 1},
    EKV_HTTP_OPT_ROWS(opts_t, limits),
    {"role", EKV_OPT_ENUM, O(role), "ROLE",
     .help = "pop, or tier: a regional tier serving its PoPs' reads at\n--serve (policy kv)",
     .names = roles, .values = role_values},
    {"serve", EKV_OPT_STRING, O(serve), "ENDPOINT",
     .help = "tier: ZeroMQ endpoint its PoPs read through (port * or 0:\nany free port)"},
    {"tier-cache-ttl", EKV_OPT_INT, O(tier_cache_ttl), "S",
     .help = "tier: seconds a copy is kept (simulated)", .min = 1, .max = 1L << 30},
    {"purge-on-write", EKV_OPT_FLAG, O(purge_on_write), NULL,
     .help = "tier: a published change drops the cached copy of its key"},
    {"tier", EKV_OPT_STRING, O(tier), "ENDPOINT",
     .help = "pop: read through the regional tier at ENDPOINT (misses,\nrefreshes); no "
             "fallback to the coordinator"},
    {"tier-delay-ms", EKV_OPT_DOUBLE, O(tier_delay_ms), "MS",
     .help = "pop: one-way link delay to the tier", .dmax = 600000},
    {"ready-file", EKV_OPT_STRING, O(ready_file), "PATH",
     .help = "write {pid, name, url, delay_ms} here once serving"},
    {"clock-skew-ms", EKV_OPT_DOUBLE, O(clock_skew_ms), "MS",
     .help = "add MS to this daemon's wall clock (stamps, not\ndurations): a host whose "
             "clock is off, for tests",
     .dmin = -60000, .dmax = 60000},
    {"verbose", EKV_OPT_FLAG, O(verbose), NULL, .help = "log debug lines"},
    {.name = NULL}, /* the end */
};
#undef O

static void opts_defaults(opts_t *o)
{
    ekv_node_config_t d;
    ekv_node_config_defaults(&d);
    *o = (opts_t){
        .name = d.name,
        .http = "127.0.0.1:0",
        .pub = d.pub_endpoint,
        .router = d.router_endpoint,
        .jitter = "none",
        .ns = d.default_ns,
        .ready_file = d.ready_file,
        .delay_ms = (double)d.link.delay_us / 1000.0,
        .loss = d.link.loss,
        .rto_ms = (double)d.link.rto_us / 1000.0,
        .time_scale = d.time_scale,
        .seed = (long)d.seed,
        .coordinator_timeout_ms = d.coordinator_timeout_ms,
        .cache_mb = (long)(d.cache_bytes >> 20),
        .min_cache_ttl = (long)d.min_cache_ttl,
        .origin_timeout_ms = d.origin_timeout_ms,
        .refresh_hot_reads = d.refresh_hot_reads,
        .refresh_late = d.refresh_late,
        .policy = (int)d.policy,
        .role = d.tier_role ? ROLE_TIER : ROLE_POP,
        .serve = d.serve_endpoint,
        .tier = d.tier_endpoint,
        .tier_delay_ms = (double)d.tier_link.delay_us / 1000.0,
        .tier_cache_ttl = (long)d.tier_cache_ttl,
        .purge_on_write = d.purge_on_write,
        /* The coordinator's defaults (coordinator/coord.c): the receive window matches. */
        .pub_rate_kbps = 100000,
        .pub_recovery_ms = 1000,
    };
    ekv_http_opts_defaults(&o->limits);
}

/* The node's and the guard's configuration from checked options; host holds the HTTP host. */
static void configure(const opts_t *o, ekv_node_config_t *cfg, ekv_http_limits_t *lim, char *host,
                      size_t hlen)
{
    ekv_node_config_defaults(cfg);
    cfg->name = o->name;
    ekv_args_hostport(o->http, host, hlen, &cfg->http_port); /* checked while parsing */
    cfg->http_host = host;
    cfg->pub_endpoint = o->pub;
    cfg->router_endpoint = o->router;
    cfg->pub_rate_kbps = (int)o->pub_rate_kbps;
    cfg->pub_recovery_ms = (int)o->pub_recovery_ms;
    cfg->link.delay_us = (int64_t)llround(o->delay_ms * 1000.0);
    ekv_link_parse_jitter(o->jitter, &cfg->link); /* checked while parsing */
    cfg->link.loss = o->loss;
    cfg->link.rto_us = (int64_t)llround(o->rto_ms * 1000.0);
    cfg->seed = (uint64_t)o->seed;
    cfg->time_scale = o->time_scale;
    cfg->coordinator_timeout_ms = (int)o->coordinator_timeout_ms;
    cfg->policy = (ekv_policy_t)o->policy;
    cfg->default_ns = o->ns;
    cfg->cache_bytes = (size_t)o->cache_mb << 20;
    cfg->min_cache_ttl = o->min_cache_ttl;
    cfg->origin_timeout_ms = (int)o->origin_timeout_ms;
    cfg->refresh_hot_reads = (int)o->refresh_hot_reads;
    cfg->refresh_late = o->refresh_late;
    cfg->ready_file = o->ready_file;
    cfg->tier_role = o->role == ROLE_TIER;
    cfg->serve_endpoint = o->serve;
    cfg->tier_cache_ttl = o->tier_cache_ttl;
    cfg->purge_on_write = o->purge_on_write;
    if (cfg->tier_role)
        cfg->policy = EKV_POLICY_KV; /* a tier keeps its copies until its cacheTtl */
    cfg->tier_endpoint = o->tier;
    cfg->tier_link = cfg->link; /* the PoP's jitter and loss, its own delay */
    cfg->tier_link.delay_us = (int64_t)llround(o->tier_delay_ms * 1000.0);
    ekv_http_opts_limits(&o->limits, lim);
}

static void usage(FILE *f)
{
    opts_t d;
    opts_defaults(&d);
    ekv_opts_usage(f, "edgekv-node [options]", table, &d);
    fprintf(f, "or: edgekv-node --zygote  fork PoPs on requests read from stdin (node/zygote.h)\n");
}

/* Reads the options into o; returns -1 to go on, else the exit status. */
static int read_options(int argc, char **argv, opts_t *o)
{
    char err[512];
    opts_defaults(o);
    int rc = ekv_opts_parse(table, argc, argv, o, err, sizeof err);
    if (rc == EKV_OPTS_HELP) {
        usage(stdout);
        return 0;
    }
    if (rc != EKV_OK) {
        fprintf(stderr, "edgekv-node: %s\n", err);
        return 2;
    }
    if (o->role == ROLE_TIER && (!o->serve || !*o->serve)) {
        fprintf(stderr, "edgekv-node: --role tier needs --serve ENDPOINT\n");
        return 2;
    }
    if (o->role == ROLE_TIER && o->tier) {
        fprintf(stderr, "edgekv-node: a tier reads from the coordinator (no --tier)\n");
        return 2;
    }
    return -1;
}

/* Reads the keys and token from the environment and refuses an address outside loopback
 * that they do not cover; returns -1 to go on, else the exit status. */
static int read_security(const opts_t *o, const char *host, ekv_sec_t *sec)
{
    char err[512];
    int rc = ekv_sec_load(sec, err, sizeof err);
    if (rc == EKV_OK)
        rc = ekv_sec_check_http(sec, "--http", o->http, host, err, sizeof err);
    if (rc == EKV_OK)
        rc = ekv_sec_check_connect(sec, "--pub", o->pub, err, sizeof err);
    if (rc == EKV_OK)
        rc = ekv_sec_check_connect(sec, "--router", o->router, err, sizeof err);
    if (rc == EKV_OK && o->tier)
        rc = ekv_sec_check_connect(sec, "--tier", o->tier, err, sizeof err);
    if (rc == EKV_OK && o->role == ROLE_TIER)
        rc = ekv_sec_check_bind(sec, "--serve", o->serve, err, sizeof err);
    if (rc == EKV_OK)
        return -1;
    fprintf(stderr, "edgekv-node: %s\n", err);
    return 2;
}

static int pop_main(int argc, char **argv)
{
    opts_t o;
    int status = read_options(argc, argv, &o);
    if (status >= 0)
        return status;
    ekv_opts_begin(o.name, table, &o, o.verbose);
    ekv_clock_skew_set(o.clock_skew_ms);

    ekv_node_config_t cfg;
    ekv_http_limits_t lim;
    char host[256];
    configure(&o, &cfg, &lim, host, sizeof host);
    ekv_sec_t sec;
    status = read_security(&o, host, &sec);
    if (status >= 0)
        return status;
    cfg.sec = &sec;
    if (sec.client)
        ekv_info("CURVE on the links to the coordinator%s", o.tier ? " and the tier" : "");
    ekv_loop_t *loop = ekv_loop_new(0);
    struct event_base *base = ekv_loop_base(loop);

    char err[512] = "";
    int rc = 1;
    ekv_node_t *node = NULL;
    ekv_http_guard_t *guard = ekv_http_guard_new(base, &lim, err, sizeof err);
    if (guard)
        node = ekv_node_new(base, &cfg, err, sizeof err);
    if (!node) {
        fprintf(stderr, "edgekv-node: %s\n", err);
        goto out;
    }
    ekv_loop_run(loop);
    rc = 0;
out:
    ekv_node_destroy(&node);
    ekv_http_guard_destroy(&guard); /* after the node's evhttp, before the loop */
    ekv_loop_destroy(&loop);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 2 && strcmp(argv[1], "--zygote") == 0)
        return ekv_node_zygote(pop_main);
    return pop_main(argc, argv);
}
