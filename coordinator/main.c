/* edgekv-coordinator: reads its options (one table, below), builds the coordinator, runs the
 * loop, tears down. */
#include <event2/event.h>
#include <sched.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "ekv_args.h"
#include "ekv_err.h"
#include "ekv_http.h"
#include "ekv_log.h"
#include "ekv_loop.h"
#include "ekv_opts.h"
#include "ekv_sec.h"
#include "ekv_time.h"

/* The options as typed; configure() turns them into the coordinator's and the HTTP guard's
 * configuration. The defaults come from those two (opts_defaults). */
typedef struct {
    const char *data, *pub, *router, *http, *api_token, *account_id, *ready_file;
    long heartbeat_ms, write_rate_limit, log_keep, log_max_age, sweep_ms;
    long max_queued, catchup_rate, pub_rate_kbps, pub_recovery_ms;
    ekv_http_opts_t limits; /* the HTTP guard's */
    long api_rate_limit;
    double time_scale, clock_skew_ms;
    int durability, commit_cpu, verbose;
    char http_default[300]; /* the default of http: host and port of the defaults */
} opts_t;

/* --commit-cpu: auto, none or a CPU number, into an int. */
static int parse_cpu(const char *s, void *field)
{
    long v;
    if (strcmp(s, "auto") == 0)
        v = EKV_COMMIT_CPU_AUTO;
    else if (strcmp(s, "none") == 0)
        v = EKV_COMMIT_CPU_NONE;
    else if (ekv_args_int(s, 0, CPU_SETSIZE - 1, &v) != 0)
        return -1;
    *(int *)field = (int)v;
    return 0;
}

static void show_cpu(const void *field, char *buf, size_t len)
{
    int cpu = *(const int *)field;
    if (cpu == EKV_COMMIT_CPU_AUTO || cpu == EKV_COMMIT_CPU_NONE)
        snprintf(buf, len, "%s", cpu == EKV_COMMIT_CPU_AUTO ? "auto" : "none");
    else
        snprintf(buf, len, "%d", cpu);
}

static const char *const durabilities[] = {"fsync", "wal", "none", NULL};
static const int durability_values[] = {EKV_STORE_FSYNC, EKV_STORE_WAL, EKV_STORE_NONE};

#define O(field) offsetof(opts_t, field)
static const ekv_opt_t table[] = {
    {"data", EKV_OPT_STRING, O(data), "DIR",
     .help = "RocksDB folder (created if missing; required)"},
    {"pub", EKV_OPT_STRING, O(pub), "ENDPOINT", .help = "ZeroMQ PUB endpoint"},
    {"router", EKV_OPT_STRING, O(router), "ENDPOINT", .help = "ZeroMQ ROUTER endpoint"},
    {"pub-rate-kbps", EKV_OPT_INT, O(pub_rate_kbps), "N",
     .help = "with an epgm:// PUB: PGM rate limit, kbit/s", .min = 1, .max = 10000000},
    {"pub-recovery-ms", EKV_OPT_INT, O(pub_recovery_ms), "N",
     .help = "with an epgm:// PUB: how long sent changes stay\nrepairable", .min = 1,
     .max = 600000},
    {"http", EKV_OPT_STRING, O(http), "HOST:PORT", .help = "HTTP listener; port 0: any free port",
     .check = ekv_args_is_hostport},
    {"durability", EKV_OPT_ENUM, O(durability), "MODE", .help = "when a write is acknowledged",
     .names = durabilities, .values = durability_values},
    {"heartbeat-ms", EKV_OPT_INT, O(heartbeat_ms), "N", .help = "heartbeat period", .min = 1,
     .max = 60000},
    {"write-rate-limit", EKV_OPT_INT, O(write_rate_limit), "N",
     .help = "writes per second allowed to one key; 0 = off", .max = 1000000},
    {"log-keep", EKV_OPT_INT, O(log_keep), "N", .help = "change-log entries kept at most", .min = 1,
     .max = 1L << 40},
    {"log-max-age", EKV_OPT_INT, O(log_max_age), "S",
     .help = "change-log entries older than S seconds are dropped;\n0 = no age limit",
     .max = 1L << 32},
    {"sweep-ms", EKV_OPT_INT, O(sweep_ms), "N", .help = "expiry sweep and log trim period",
     .min = 1, .max = 3600000},
    {"api-token", EKV_OPT_STRING, O(api_token), "TOKEN",
     .help = "require \"Authorization: Bearer TOKEN\" on the REST API", .secret = 1},
    {"account-id", EKV_OPT_STRING, O(account_id), "ID",
     .help = "account id reported by /memberships", .check = ekv_args_name},
    EKV_HTTP_OPT_ROWS(opts_t, limits),
    {"commit-cpu", EKV_OPT_CUSTOM, O(commit_cpu), "CPU",
     .help =
         "run the loop and commit thread on CPU: auto (with\nfsync, the CPU taking the data disk's "
         "completion\ninterrupts, when it is one), none, or a CPU number",
     .parse = parse_cpu, .show = show_cpu},
    {"api-rate-limit", EKV_OPT_INT, O(api_rate_limit), "N",
     .help = "REST API requests allowed per 5 minutes (Cloudflare's\naccount limit is 1200); "
             "more get 429, code 971;\n0 = off",
     .max = 100000000},
    {"time-scale", EKV_OPT_DOUBLE, O(time_scale), "S",
     .help = "simulated durations run S times faster: the time\nleft to an expiration shrinks S "
             "times",
     .dmin = 0.001, .dmax = 100000},
    {"max-queued", EKV_OPT_INT, O(max_queued), "N",
     .help = "writes waiting for a commit at most; more are\nanswered 503 \"Coordinator busy\"",
     .min = 1, .max = 100000000},
    {"catchup-rate", EKV_OPT_INT, O(catchup_rate), "BYTES",
     .help = "catch-up replies sent per second at most; PoPs\nasking beyond it are told to ask "
             "again",
     .min = 4096, .max = 1L << 40},
    {"ready-file", EKV_OPT_STRING, O(ready_file), "PATH",
     .help = "write endpoints as JSON here once serving"},
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
    ekv_coord_config_t d;
    ekv_coord_config_defaults(&d);
    *o = (opts_t){
        .data = d.data_dir,
        .pub = d.pub_endpoint,
        .router = d.router_endpoint,
        .api_token = d.api_token,
        .account_id = d.account_id,
        .heartbeat_ms = d.heartbeat_ms,
        .write_rate_limit = d.rate_limit_us ? (long)(1000000 / d.rate_limit_us) : 0,
        .log_keep = (long)d.log_keep,
        .log_max_age = (long)d.log_max_age_s,
        .sweep_ms = d.sweep_ms,
        .durability = (int)d.durability,
        .commit_cpu = d.commit_cpu,
        .max_queued = (long)d.max_queued,
        .api_rate_limit = d.api_rate_limit,
        .time_scale = d.time_scale,
        .catchup_rate = (long)d.catchup_bytes_per_s,
        .pub_rate_kbps = d.pub_rate_kbps,
        .pub_recovery_ms = d.pub_recov_ms,
    };
    ekv_http_opts_defaults(&o->limits);
    snprintf(o->http_default, sizeof o->http_default, "%s:%d", d.http_host, d.http_port);
    o->http = o->http_default;
}

/* The coordinator's and the guard's configuration from checked options; host holds the HTTP
 * host. */
static void configure(const opts_t *o, ekv_coord_config_t *cfg, ekv_http_limits_t *lim, char *host,
                      size_t hlen)
{
    ekv_coord_config_defaults(cfg);
    cfg->data_dir = o->data;
    cfg->pub_endpoint = o->pub;
    cfg->router_endpoint = o->router;
    cfg->pub_rate_kbps = (int)o->pub_rate_kbps;
    cfg->pub_recov_ms = (int)o->pub_recovery_ms;
    ekv_args_hostport(o->http, host, hlen, &cfg->http_port); /* checked while parsing */
    cfg->http_host = host;
    cfg->durability = (ekv_store_durability_t)o->durability;
    cfg->heartbeat_ms = (int)o->heartbeat_ms;
    cfg->rate_limit_us = o->write_rate_limit ? 1000000 / o->write_rate_limit : 0;
    cfg->log_keep = (uint64_t)o->log_keep;
    cfg->log_max_age_s = o->log_max_age;
    cfg->sweep_ms = (int)o->sweep_ms;
    cfg->api_token = o->api_token;
    cfg->account_id = o->account_id;
    cfg->commit_cpu = o->commit_cpu;
    cfg->max_queued = (size_t)o->max_queued;
    cfg->api_rate_limit = (int)o->api_rate_limit;
    cfg->catchup_bytes_per_s = o->catchup_rate;
    cfg->time_scale = o->time_scale;
    ekv_http_opts_limits(&o->limits, lim);
}

static void usage(FILE *f)
{
    opts_t d;
    opts_defaults(&d);
    ekv_opts_usage(f, "edgekv-coordinator --data DIR [options]", table, &d);
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
        rc = ekv_sec_check_bind(sec, "--pub", o->pub, err, sizeof err);
    if (rc == EKV_OK)
        rc = ekv_sec_check_bind(sec, "--router", o->router, err, sizeof err);
    if (rc == EKV_OK)
        return -1;
    fprintf(stderr, "edgekv-coordinator: %s\n", err);
    return 2;
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
    if (rc == EKV_OK && !o->data)
        snprintf(err, sizeof err, "--data DIR is required");
    if (rc != EKV_OK || !o->data) {
        fprintf(stderr, "edgekv-coordinator: %s\n", err);
        usage(stderr);
        return 2;
    }
    return -1;
}

int main(int argc, char **argv)
{
    opts_t o;
    int status = read_options(argc, argv, &o);
    if (status >= 0)
        return status;
    ekv_opts_begin("coordinator", table, &o, o.verbose);
    ekv_clock_skew_set(o.clock_skew_ms);

    ekv_coord_config_t cfg;
    ekv_http_limits_t lim;
    char host[256];
    configure(&o, &cfg, &lim, host, sizeof host);
    ekv_sec_t sec;
    status = read_security(&o, host, &sec);
    if (status >= 0)
        return status;
    cfg.sec = &sec;
    if (sec.has_token)
        cfg.api_token = sec.token; /* the world's token guards the REST API too */
    if (sec.server)
        ekv_info("CURVE on the PUB and ROUTER sockets; ZAP admits the world's client key");
    ekv_loop_t *loop = ekv_loop_new(3);
    struct event_base *base = ekv_loop_base(loop);

    char err[512] = "";
    int rc = 1;
    ekv_coord_t *coord = NULL;
    ekv_http_guard_t *guard = ekv_http_guard_new(base, &lim, err, sizeof err);
    if (guard)
        coord = ekv_coord_new(base, &cfg, err, sizeof err);
    if (!coord) {
        fprintf(stderr, "edgekv-coordinator: %s\n", err);
        goto out;
    }
    if (o.ready_file && ekv_coord_write_ready(coord, o.ready_file) != EKV_OK) {
        fprintf(stderr, "edgekv-coordinator: cannot write %s\n", o.ready_file);
        goto out;
    }
    ekv_loop_run(loop);
    rc = 0;
out:
    ekv_coord_destroy(&coord);
    ekv_http_guard_destroy(&guard); /* after the coordinator's evhttp, before the loop */
    ekv_loop_destroy(&loop);
    return rc;
}
