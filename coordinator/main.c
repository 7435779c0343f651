/* edgekv-coordinator: parses options, builds the coordinator, runs the loop, tears down. */
#include <event2/event.h>
#include <getopt.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord.h"
#include "ekv_args.h"
#include "ekv_err.h"
#include "ekv_http.h"
#include "ekv_log.h"
#include "ekv_loop.h"

static void usage(FILE *f)
{
    fprintf(f, "usage: edgekv-coordinator --data DIR [options]\n"
               "  --data DIR            RocksDB folder (created if missing)\n"
               "  --pub ENDPOINT        ZeroMQ PUB endpoint (default tcp://127.0.0.1:8781)\n"
               "  --router ENDPOINT     ZeroMQ ROUTER endpoint (default tcp://127.0.0.1:8782)\n"
               "  --http HOST:PORT      HTTP listener (default 127.0.0.1:8780; port 0 = any)\n"
               "  --durability MODE     fsync (default), wal or none\n"
               "  --heartbeat-ms N      heartbeat period (default 100)\n"
               "  --write-rate-limit N  writes per second allowed to one key (default 1; 0 = off)\n"
               "  --log-keep N          change-log entries kept at most (default 1000000)\n"
               "  --log-max-age S       change-log entries older than S seconds are dropped\n"
               "                        (default 86400; 0 = no age limit)\n"
               "  --sweep-ms N          expiry sweep and log trim period (default 1000)\n"
               "  --api-token TOKEN     require \"Authorization: Bearer TOKEN\" on the REST API\n"
               "  --account-id ID       account id reported by /memberships\n"
               "  --max-connections N   concurrent HTTP clients; more get 503 (default 4096)\n"
               "  --request-timeout-ms N\n"
               "                        a request (headers and body) not received in N ms gets\n"
               "                        408 (default 10000)\n"
               "  --idle-timeout-ms N   a kept-alive connection idle for N ms is closed (60000)\n"
               "  --commit-cpu CPU      run the loop and commit thread on CPU: auto (default:\n"
               "                        with fsync, the CPU taking the data disk's completion\n"
               "                        interrupts, when it is one), none, or a CPU number\n"
               "  --ready-file PATH     write endpoints as JSON here once serving\n"
               "  --verbose             log debug lines\n");
}

static int parse_args(int argc, char **argv, ekv_coord_config_t *cfg, ekv_http_limits_t *lim,
                      const char **ready, char *host, size_t hlen)
{
    static const struct option opts[] = {{"data", required_argument, 0, 'd'},
                                         {"pub", required_argument, 0, 'p'},
                                         {"router", required_argument, 0, 'r'},
                                         {"http", required_argument, 0, 'h'},
                                         {"durability", required_argument, 0, 'D'},
                                         {"heartbeat-ms", required_argument, 0, 'b'},
                                         {"ready-file", required_argument, 0, 'R'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"write-rate-limit", required_argument, 0, 'W'},
                                         {"log-keep", required_argument, 0, 'K'},
                                         {"log-max-age", required_argument, 0, 'A'},
                                         {"sweep-ms", required_argument, 0, 'S'},
                                         {"api-token", required_argument, 0, 'T'},
                                         {"account-id", required_argument, 0, 'I'},
                                         {"max-connections", required_argument, 0, 'm'},
                                         {"request-timeout-ms", required_argument, 0, 'q'},
                                         {"idle-timeout-ms", required_argument, 0, 'i'},
                                         {"commit-cpu", required_argument, 0, 'C'},
                                         {"help", no_argument, 0, 'H'},
                                         {0, 0, 0, 0}};
    int c, li = 0;
    long v = 0;
    while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd':
            cfg->data_dir = optarg;
            break;
        case 'p':
            cfg->pub_endpoint = optarg;
            break;
        case 'r':
            cfg->router_endpoint = optarg;
            break;
        case 'h':
            bad = ekv_args_hostport(optarg, host, hlen, &cfg->http_port);
            cfg->http_host = host;
            break;
        case 'b':
            bad = ekv_args_int(optarg, 1, 60000, &v);
            cfg->heartbeat_ms = (int)v;
            break;
        case 'R':
            *ready = optarg;
            break;
        case 'W':
            bad = ekv_args_int(optarg, 0, 1000000, &v);
            cfg->rate_limit_us = v ? 1000000 / v : 0;
            break;
        case 'K':
            bad = ekv_args_int(optarg, 1, 1L << 40, &v);
            cfg->log_keep = (uint64_t)v;
            break;
        case 'A':
            bad = ekv_args_int(optarg, 0, 1L << 32, &v);
            cfg->log_max_age_s = v;
            break;
        case 'S':
            bad = ekv_args_int(optarg, 1, 3600000, &v);
            cfg->sweep_ms = (int)v;
            break;
        case 'T':
            cfg->api_token = optarg;
            break;
        case 'I':
            cfg->account_id = optarg;
            bad = ekv_args_name(optarg);
            break;
        case 'm':
        case 'q':
        case 'i':
            bad = ekv_http_limits_option(c, optarg, lim);
            break;
        case 'v':
            ekv_log_init("coordinator", EKV_LOG_DEBUG);
            break;
        case 'C':
            if (strcmp(optarg, "auto") == 0) {
                cfg->commit_cpu = EKV_COMMIT_CPU_AUTO;
            } else if (strcmp(optarg, "none") == 0) {
                cfg->commit_cpu = EKV_COMMIT_CPU_NONE;
            } else {
                bad = ekv_args_int(optarg, 0, CPU_SETSIZE - 1, &v);
                cfg->commit_cpu = (int)v;
            }
            break;
        case 'H':
            usage(stdout);
            exit(0);
        case 'D':
            if (strcmp(optarg, "fsync") == 0)
                cfg->durability = EKV_STORE_FSYNC;
            else if (strcmp(optarg, "wal") == 0)
                cfg->durability = EKV_STORE_WAL;
            else if (strcmp(optarg, "none") == 0)
                cfg->durability = EKV_STORE_NONE;
            else
                bad = 1;
            break;
        default:
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "edgekv-coordinator: bad value for --%s: %s\n", opts[li].name, optarg);
            return -1;
        }
    }
    if (optind < argc || !cfg->data_dir) {
        fprintf(stderr, "edgekv-coordinator: %s\n",
                optind < argc ? "unexpected argument" : "--data DIR is required");
        usage(stderr);
        return -1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    ekv_log_init("coordinator", EKV_LOG_INFO);
    ekv_coord_config_t cfg;
    ekv_coord_config_defaults(&cfg);
    ekv_http_limits_t lim;
    ekv_http_limits_defaults(&lim);
    const char *ready = NULL;
    char host[256];
    if (parse_args(argc, argv, &cfg, &lim, &ready, host, sizeof host) != 0)
        return 2;
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
    if (ready && ekv_coord_write_ready(coord, ready) != EKV_OK) {
        fprintf(stderr, "edgekv-coordinator: cannot write %s\n", ready);
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
