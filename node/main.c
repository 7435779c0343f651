/* edgekv-node: parses options, builds one PoP, runs the loop, tears down; or, as
 * `edgekv-node --zygote`, forks PoPs on request (zygote.h). */
#include <event2/event.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ekv_args.h"
#include "ekv_http.h"
#include "ekv_log.h"
#include "ekv_loop.h"
#include "node.h"
#include "zygote.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: edgekv-node [options]\n"
            "  --name NAME             PoP name (default pop)\n"
            "  --http HOST:PORT        HTTP listener (default 127.0.0.1:0, any port)\n"
            "  --pub ENDPOINT          coordinator PUB (default tcp://127.0.0.1:8781)\n"
            "  --router ENDPOINT       coordinator ROUTER (default tcp://127.0.0.1:8782)\n"
            "  --delay-ms MS           one-way link delay to the coordinator (default 0)\n"
            "  --jitter SPEC           none (default), uniform:MS, normal:MS or pareto:MS:SHAPE\n"
            "  --loss P                probability a transmission is lost (default 0)\n"
            "  --rto-ms MS             retransmission timeout paid per loss (default 200)\n"
            "  --seed N                seed of the link's random draws (default 1)\n"
            "  --time-scale S          simulated durations (delays, cacheTtl) run S times faster\n"
            "  --coordinator-timeout-ms N\n"
            "                          no heartbeat for N ms: fail writes and misses fast (1000)\n"
            "  --policy P              push (default), push-all, invalidate or ttl\n"
            "  --namespace ID          default namespace id\n"
            "  --cache-mb N            cache memory cap in MiB (default 64)\n"
            "  --min-cache-ttl S       smallest cacheTtl accepted (default 30)\n"
            "  --origin-timeout-ms N   coordinator requests fail with 503 after (default 5000)\n"
            "  --max-connections N     concurrent HTTP clients; more get 503 (default 4096)\n"
            "  --request-timeout-ms N  a request (headers and body) not received in N ms gets\n"
            "                          408 (default 10000)\n"
            "  --idle-timeout-ms N     a kept-alive connection idle for N ms is closed (60000)\n"
            "  --ready-file PATH       write {pid, name, url, delay_ms} here once serving\n"
            "  --verbose               log debug lines\n"
            "or: edgekv-node --zygote  fork PoPs on requests read from stdin (node/zygote.h)\n");
}

static int parse_args(int argc, char **argv, ekv_node_config_t *cfg, ekv_http_limits_t *lim,
                      char *host, size_t hlen)
{
    static const struct option opts[] = {{"name", required_argument, 0, 'n'},
                                         {"http", required_argument, 0, 'h'},
                                         {"pub", required_argument, 0, 'p'},
                                         {"router", required_argument, 0, 'r'},
                                         {"delay-ms", required_argument, 0, 'd'},
                                         {"policy", required_argument, 0, 'P'},
                                         {"namespace", required_argument, 0, 'N'},
                                         {"cache-mb", required_argument, 0, 'c'},
                                         {"min-cache-ttl", required_argument, 0, 't'},
                                         {"origin-timeout-ms", required_argument, 0, 'o'},
                                         {"ready-file", required_argument, 0, 'R'},
                                         {"verbose", no_argument, 0, 'v'},
                                         {"jitter", required_argument, 0, 'j'},
                                         {"loss", required_argument, 0, 'l'},
                                         {"rto-ms", required_argument, 0, 'x'},
                                         {"seed", required_argument, 0, 's'},
                                         {"time-scale", required_argument, 0, 'S'},
                                         {"coordinator-timeout-ms", required_argument, 0, 'C'},
                                         {"max-connections", required_argument, 0, 'm'},
                                         {"request-timeout-ms", required_argument, 0, 'q'},
                                         {"idle-timeout-ms", required_argument, 0, 'i'},
                                         {"help", no_argument, 0, 'H'},
                                         {0, 0, 0, 0}};
    int c, li = 0;
    while ((c = getopt_long(argc, argv, "", opts, &li)) != -1) {
        long v = 0;
        double d = 0;
        int bad = 0;
        switch (c) {
        case 'n':
            cfg->name = optarg;
            bad = ekv_args_name(optarg);
            break;
        case 'h':
            bad = ekv_args_hostport(optarg, host, hlen, &cfg->http_port);
            cfg->http_host = host;
            break;
        case 'p':
            cfg->pub_endpoint = optarg;
            break;
        case 'r':
            cfg->router_endpoint = optarg;
            break;
        case 'd':
            bad = ekv_args_double(optarg, 0, 600000, &d);
            cfg->link.delay_us = (int64_t)llround(d * 1000.0);
            break;
        case 'j':
            bad = ekv_link_parse_jitter(optarg, &cfg->link) != 0;
            break;
        case 'l':
            bad = ekv_args_double(optarg, 0, 0.9, &d);
            cfg->link.loss = d;
            break;
        case 'x':
            bad = ekv_args_double(optarg, 0, 600000, &d);
            cfg->link.rto_us = (int64_t)llround(d * 1000.0);
            break;
        case 's':
            bad = ekv_args_int(optarg, 0, LONG_MAX, &v);
            cfg->seed = (uint64_t)v;
            break;
        case 'S':
            bad = ekv_args_double(optarg, 0.001, 100000, &cfg->time_scale);
            break;
        case 'C':
            bad = ekv_args_int(optarg, 1, 3600000, &v);
            cfg->coordinator_timeout_ms = (int)v;
            break;
        case 'm':
        case 'q':
        case 'i':
            bad = ekv_http_limits_option(c, optarg, lim);
            break;
        case 'P':
            bad = ekv_policy_parse(optarg, &cfg->policy) != 0;
            break;
        case 'N':
            cfg->default_ns = optarg;
            bad = ekv_args_name(optarg);
            break;
        case 'c':
            bad = ekv_args_int(optarg, 1, 1 << 20, &v);
            cfg->cache_bytes = (size_t)v << 20;
            break;
        case 't':
            bad = ekv_args_int(optarg, 1, 1L << 30, &v);
            cfg->min_cache_ttl = v;
            break;
        case 'o':
            bad = ekv_args_int(optarg, 1, 3600000, &v);
            cfg->origin_timeout_ms = (int)v;
            break;
        case 'R':
            cfg->ready_file = optarg;
            break;
        case 'v':
            ekv_log_init(cfg->name, EKV_LOG_DEBUG);
            break;
        case 'H':
            usage(stdout);
            exit(0);
        default:
            usage(stderr);
            return -1;
        }
        if (bad) {
            fprintf(stderr, "edgekv-node: bad value for --%s: %s\n", opts[li].name, optarg);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "edgekv-node: unexpected argument %s\n", argv[optind]);
        return -1;
    }
    return 0;
}

static int pop_main(int argc, char **argv)
{
    ekv_node_config_t cfg;
    ekv_node_config_defaults(&cfg);
    cfg.http_port = 0;
    ekv_http_limits_t lim;
    ekv_http_limits_defaults(&lim);
    char host[256];
    if (parse_args(argc, argv, &cfg, &lim, host, sizeof host) != 0)
        return 2;
    ekv_log_init(cfg.name, EKV_LOG_INFO);
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
