/* topology: YAML loading and validation with libyaml's document API (see topology.h).
 *
 * The document is loaded whole, then walked: each mapping's keys are checked against the
 * fields its section allows, so a typo is an error with its line rather than a silent
 * default. */
#include "topology.h"

#include <arpa/inet.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ekv_err.h"
#include "ekv_file.h"
#include "ekv_mem.h"
#include "yconf.h"

#define MAX_POPS  2000
#define MAX_TIERS 100

#define NODE(id) YC_NODE(c, id)

int ekv_topo_is_loopback(const char *host)
{
    struct in_addr a;
    if (!strcmp(host, "localhost"))
        return 1;
    return inet_pton(AF_INET, host, &a) == 1 && (ntohl(a.s_addr) >> 24) == 127;
}

/* The coordinator's --durability modes (coordinator/main.c). */
static int known_durability(const char *d)
{
    return !strcmp(d, "fsync") || !strcmp(d, "wal") || !strcmp(d, "none");
}

/* coordinator.transport: tcp, or epgm on a multicast group of a loopback interface. */
static int load_transport(yc_ctx_t *c, yaml_node_t *n, ekv_topo_transport_t *tr)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "coordinator.transport", &p, &end))
        return -1;
    struct in_addr a;
    double d;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "kind")) {
            if (!yc_string(c, v, "transport.kind", tr->kind, sizeof tr->kind) &&
                strcmp(tr->kind, "tcp") != 0 && strcmp(tr->kind, "epgm") != 0)
                yc_problem(c, v, "transport.kind: '%s' is not one of tcp, epgm", tr->kind);
        } else if (!strcmp(key, "group")) {
            if (!yc_string(c, v, "transport.group", tr->group, sizeof tr->group) &&
                (inet_pton(AF_INET, tr->group, &a) != 1 || (ntohl(a.s_addr) >> 28) != 0xe))
                yc_problem(c, v, "transport.group: '%s' is not multicast (224.0.0.0/4)", tr->group);
        } else if (!strcmp(key, "port"))
            yc_port(c, v, "transport.port", &tr->port);
        else if (!strcmp(key, "interface")) {
            if (!yc_string(c, v, "transport.interface", tr->interface, sizeof tr->interface) &&
                (inet_pton(AF_INET, tr->interface, &a) != 1 ||
                 !ekv_topo_is_loopback(tr->interface)))
                yc_problem(c, v, "transport.interface: '%s' is not loopback (127.0.0.0/8)",
                           tr->interface);
        } else if (!strcmp(key, "rate_kbps")) {
            if (!yc_number(c, v, "transport.rate_kbps", 1000, 10000000, &d))
                tr->rate_kbps = (int)d;
        } else if (!strcmp(key, "recovery_ms")) {
            if (!yc_number(c, v, "transport.recovery_ms", 10, 600000, &d))
                tr->recovery_ms = (int)d;
        } else if (!strcmp(key, "setup"))
            yc_bool(c, v, "transport.setup", &tr->setup);
        else
            yc_problem(c, k, "coordinator.transport: unknown field '%s'", key);
    }
    if (!c->failed && !strcmp(tr->kind, "epgm") && !tr->group[0])
        yc_problem(c, n, "coordinator.transport: epgm needs a group (e.g. 239.192.0.1)");
    return c->failed ? -1 : 0;
}

static int load_coord(yc_ctx_t *c, yaml_node_t *n, ekv_topo_coord_t *co)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "coordinator", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "city"))
            yc_string(c, v, "coordinator.city", co->city, sizeof co->city);
        else if (!strcmp(key, "iata"))
            yc_string(c, v, "coordinator.iata", co->iata, sizeof co->iata);
        else if (!strcmp(key, "lat"))
            yc_number(c, v, "coordinator.lat", -90, 90, &co->lat);
        else if (!strcmp(key, "lon"))
            yc_number(c, v, "coordinator.lon", -180, 180, &co->lon);
        else if (!strcmp(key, "host")) {
            /* A host's name or a loopback address: resolved once `hosts:` is known. */
            co->host_line = (int)v->start_mark.line + 1;
            yc_string(c, v, "coordinator.host", co->host, sizeof co->host);
        } else if (!strcmp(key, "http_port"))
            yc_port(c, v, "coordinator.http_port", &co->http_port);
        else if (!strcmp(key, "pub_port"))
            yc_port(c, v, "coordinator.pub_port", &co->pub_port);
        else if (!strcmp(key, "router_port"))
            yc_port(c, v, "coordinator.router_port", &co->router_port);
        else if (!strcmp(key, "heartbeat_ms"))
            yc_number(c, v, "coordinator.heartbeat_ms", 10, 10000, &co->heartbeat_ms);
        else if (!strcmp(key, "api_rate_limit"))
            yc_number(c, v, "coordinator.api_rate_limit", 0, 100000000, &co->api_rate_limit);
        else if (!strcmp(key, "durability")) {
            if (!yc_string(c, v, "coordinator.durability", co->durability, sizeof co->durability) &&
                !known_durability(co->durability))
                yc_problem(c, v, "coordinator.durability: '%s' is not one of fsync, wal, none",
                           co->durability);
        } else if (!strcmp(key, "transport"))
            load_transport(c, v, &co->transport);
        else
            yc_problem(c, k, "coordinator: unknown field '%s'", key);
    }
    return c->failed ? -1 : 0;
}

static int load_defaults(yc_ctx_t *c, yaml_node_t *n, ekv_topo_t *t)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "defaults", &p, &end))
        return -1;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "policy")) {
            if (!yc_string(c, v, "defaults.policy", t->policy, sizeof t->policy))
                yc_policy(c, v, t->policy);
        } else if (!strcmp(key, "cache_ttl")) {
            yc_number(c, v, "defaults.cache_ttl", 1, 1e9, &t->cache_ttl);
        } else if (!strcmp(key, "cache_mb")) {
            yc_number(c, v, "defaults.cache_mb", 1, 1 << 20, &t->cache_mb);
        } else if (!strcmp(key, "route_factor")) {
            yc_number(c, v, "defaults.route_factor", 1, 10, &t->route_factor);
        } else if (!strcmp(key, "time_scale")) {
            yc_number(c, v, "defaults.time_scale", 0.001, 1000, &t->time_scale);
        } else if (!strcmp(key, "http_port_base")) {
            yc_port(c, v, "defaults.http_port_base", &t->http_port_base);
        } else if (!strcmp(key, "pin_cpus")) {
            yc_bool(c, v, "defaults.pin_cpus", &t->pin_cpus);
        } else if (!strcmp(key, "jitter")) {
            yc_jitter(c, v, "defaults.jitter", t->jitter, sizeof t->jitter);
        } else if (!strcmp(key, "loss")) {
            yc_number(c, v, "defaults.loss", 0, 0.9, &t->loss);
        } else if (!strcmp(key, "rto_ms")) {
            yc_number(c, v, "defaults.rto_ms", 0, 600000, &t->rto_ms);
        } else if (!strcmp(key, "min_cache_ttl")) {
            yc_number(c, v, "defaults.min_cache_ttl", 1, 1e9, &t->min_cache_ttl);
        } else if (!strcmp(key, "tier_cache_ttl")) {
            yc_number(c, v, "defaults.tier_cache_ttl", 1, 1e9, &t->tier_cache_ttl);
        } else if (!strcmp(key, "refresh_hot_reads")) {
            double v2 = t->refresh_hot_reads;
            if (!yc_number(c, v, "defaults.refresh_hot_reads", 0, 255, &v2) && v2 != floor(v2))
                yc_problem(c, v, "defaults.refresh_hot_reads: a whole number of reads is expected");
            t->refresh_hot_reads = (int)v2;
        } else if (!strcmp(key, "refresh_late")) {
            yc_number(c, v, "defaults.refresh_late", 0, 1, &t->refresh_late);
        } else if (!strcmp(key, "tier_purge_on_write")) {
            yc_bool(c, v, "defaults.tier_purge_on_write", &t->tier_purge_on_write);
        } else if (!strcmp(key, "write_rate_limit")) {
            yc_number(c, v, "defaults.write_rate_limit", 0, 1e6, &t->write_rate_limit);
        } else if (!strcmp(key, "seed")) {
            double d;
            if (!yc_number(c, v, "defaults.seed", 0, 1e15, &d))
                t->seed = (long)d;
        } else {
            yc_problem(c, k, "defaults: unknown field '%s'", key);
        }
    }
    return c->failed ? -1 : 0;
}

static int valid_name(const char *s)
{
    if (!*s)
        return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '-'))
            return 0;
    return 1;
}

static int load_pop(yc_ctx_t *c, yaml_node_t *n, ekv_topo_pop_t *pop)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "pops[]", &p, &end))
        return -1;
    pop->line = (int)n->start_mark.line + 1;
    pop->tier_index = -1;
    int has_lat = 0, has_lon = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "name")) {
            if (!yc_string(c, v, "name", pop->name, sizeof pop->name) && !valid_name(pop->name))
                yc_problem(c, v, "name: '%s' must be lowercase letters, digits and '-'", pop->name);
        } else if (!strcmp(key, "city")) {
            yc_string(c, v, "city", pop->city, sizeof pop->city);
        } else if (!strcmp(key, "iata")) {
            yc_string(c, v, "iata", pop->iata, sizeof pop->iata);
        } else if (!strcmp(key, "lat")) {
            has_lat = !yc_number(c, v, "lat", -90, 90, &pop->lat);
        } else if (!strcmp(key, "lon")) {
            has_lon = !yc_number(c, v, "lon", -180, 180, &pop->lon);
        } else if (!strcmp(key, "delay_ms")) {
            pop->has_delay = !yc_number(c, v, "delay_ms", 0, 600000, &pop->delay_ms);
        } else if (!strcmp(key, "policy")) {
            if (!yc_string(c, v, "policy", pop->policy, sizeof pop->policy))
                yc_policy(c, v, pop->policy);
        } else if (!strcmp(key, "jitter")) {
            yc_jitter(c, v, "jitter", pop->jitter, sizeof pop->jitter);
        } else if (!strcmp(key, "loss")) {
            pop->has_loss = !yc_number(c, v, "loss", 0, 0.9, &pop->loss);
        } else if (!strcmp(key, "tier")) {
            pop->tier_line = (int)v->start_mark.line + 1;
            yc_string(c, v, "tier", pop->tier, sizeof pop->tier);
        } else if (!strcmp(key, "host")) {
            pop->host_line = (int)v->start_mark.line + 1;
            yc_string(c, v, "host", pop->host, sizeof pop->host);
        } else {
            yc_problem(c, k, "pop: unknown field '%s'", key);
        }
    }
    if (!c->failed && !pop->name[0])
        yc_problem(c, n, "pop: 'name' is required");
    pop->has_coords = has_lat && has_lon;
    if (!c->failed && !pop->has_delay && !pop->has_coords)
        yc_problem(c, n, "pop %s: give lat and lon, or delay_ms", pop->name);
    return c->failed ? -1 : 0;
}

static int load_pops(yc_ctx_t *c, yaml_node_t *n, ekv_topo_t *t)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return yc_problem(c, n, "pops: expected a list of PoPs");
    yaml_node_item_t *b = n->data.sequence.items.start, *e = n->data.sequence.items.top;
    if (e - b == 0 || e - b > MAX_POPS)
        return yc_problem(c, n, "pops: expected 1..%d PoPs, got %d", MAX_POPS, (int)(e - b));
    t->pops = ekv_calloc((size_t)(e - b), sizeof *t->pops);
    for (yaml_node_item_t *i = b; i < e && !c->failed; i++) {
        ekv_topo_pop_t *pop = &t->pops[t->npops];
        if (load_pop(c, NODE(*i), pop))
            break;
        for (size_t j = 0; j < t->npops; j++)
            if (!strcmp(t->pops[j].name, pop->name))
                return yc_problem(c, NODE(*i), "pop %s: name already used on line %d", pop->name,
                                  t->pops[j].line);
        t->npops++;
    }
    return c->failed ? -1 : 0;
}

static int load_tier(yc_ctx_t *c, yaml_node_t *n, ekv_topo_tier_t *tier)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "tiers[]", &p, &end))
        return -1;
    tier->line = (int)n->start_mark.line + 1;
    int has_lat = 0, has_lon = 0;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "name")) {
            if (!yc_string(c, v, "name", tier->name, sizeof tier->name) && !valid_name(tier->name))
                yc_problem(c, v, "name: '%s' must be lowercase letters, digits and '-'",
                           tier->name);
        } else if (!strcmp(key, "city")) {
            yc_string(c, v, "city", tier->city, sizeof tier->city);
        } else if (!strcmp(key, "iata")) {
            yc_string(c, v, "iata", tier->iata, sizeof tier->iata);
        } else if (!strcmp(key, "lat")) {
            has_lat = !yc_number(c, v, "lat", -90, 90, &tier->lat);
        } else if (!strcmp(key, "lon")) {
            has_lon = !yc_number(c, v, "lon", -180, 180, &tier->lon);
        } else if (!strcmp(key, "cache_ttl")) {
            tier->has_cache_ttl = !yc_number(c, v, "cache_ttl", 1, 1e9, &tier->cache_ttl);
        } else if (!strcmp(key, "delay_ms")) {
            tier->has_delay = !yc_number(c, v, "delay_ms", 0, 600000, &tier->delay_ms);
        } else if (!strcmp(key, "host")) {
            tier->host_line = (int)v->start_mark.line + 1;
            yc_string(c, v, "host", tier->host, sizeof tier->host);
        } else {
            yc_problem(c, k, "tier: unknown field '%s'", key);
        }
    }
    if (!c->failed && !tier->name[0])
        yc_problem(c, n, "tier: 'name' is required");
    /* PoPs find their nearest tier and their delay to it by the tier's coordinates. */
    if (!c->failed && !(has_lat && has_lon))
        yc_problem(c, n, "tier %s: lat and lon are required", tier->name);
    return c->failed ? -1 : 0;
}

static int load_tiers(yc_ctx_t *c, yaml_node_t *n, ekv_topo_t *t)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return yc_problem(c, n, "tiers: expected a list of tiers");
    yaml_node_item_t *b = n->data.sequence.items.start, *e = n->data.sequence.items.top;
    if (e - b > MAX_TIERS)
        return yc_problem(c, n, "tiers: expected at most %d tiers, got %d", MAX_TIERS,
                          (int)(e - b));
    t->tiers = ekv_calloc((size_t)(e - b) + 1, sizeof *t->tiers);
    for (yaml_node_item_t *i = b; i < e && !c->failed; i++) {
        ekv_topo_tier_t *tier = &t->tiers[t->ntiers];
        if (load_tier(c, NODE(*i), tier))
            break;
        for (size_t j = 0; j < t->ntiers; j++)
            if (!strcmp(t->tiers[j].name, tier->name))
                return yc_problem(c, NODE(*i), "tier %s: name already used on line %d", tier->name,
                                  t->tiers[j].line);
        t->ntiers++;
    }
    return c->failed ? -1 : 0;
}

static int load_host(yc_ctx_t *c, yaml_node_t *n, ekv_topo_host_t *h)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "hosts[]", &p, &end))
        return -1;
    h->line = (int)n->start_mark.line + 1;
    struct in_addr a;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        if (!strcmp(key, "name")) {
            if (!yc_string(c, v, "name", h->name, sizeof h->name) && !valid_name(h->name))
                yc_problem(c, v, "name: '%s' must be lowercase letters, digits and '-'", h->name);
        } else if (!strcmp(key, "address")) {
            /* IPv4 only: the daemons' endpoints are written ADDR:PORT. Whether the address
             * can be used here (loopback) is `edgekv up`'s question, not the file's. */
            if (!yc_string(c, v, "address", h->address, sizeof h->address) &&
                inet_pton(AF_INET, h->address, &a) != 1)
                yc_problem(c, v, "host address must be an IPv4 address (got '%s')", h->address);
        } else if (!strcmp(key, "clock_skew_ms")) {
            const char *text = yc_scalar(v);
            char *stop = NULL;
            double d = text ? strtod(text, &stop) : NAN;
            if (!text || stop == text || *stop || !(d >= -60000 && d <= 60000))
                yc_problem(c, v, "clock_skew_ms must be between -60000 and 60000");
            else
                h->skew_ms = d;
        } else if (!strcmp(key, "delay_ms")) {
            yc_number(c, v, "delay_ms", 0, 10000, &h->delay_ms);
        } else {
            yc_problem(c, k, "host: unknown field '%s'", key);
        }
    }
    if (!c->failed && !h->name[0])
        yc_problem(c, n, "host: 'name' is required");
    if (!c->failed && !h->address[0])
        yc_problem(c, n, "host %s: 'address' is required", h->name);
    return c->failed ? -1 : 0;
}

int ekv_topo_in_network(const char *addr, const char *net, int prefix)
{
    struct in_addr a, b;
    if (inet_pton(AF_INET, addr, &a) != 1 || inet_pton(AF_INET, net, &b) != 1 || prefix < 0 ||
        prefix > 32)
        return 0;
    uint32_t mask = prefix ? 0xffffffffu << (32 - prefix) : 0;
    return ((ntohl(a.s_addr) ^ ntohl(b.s_addr)) & mask) == 0;
}

/* `netns: {prefix, bridge_address}`: checked against the hosts in resolve_hosts. */
static int load_netns(yc_ctx_t *c, yaml_node_t *n, ekv_topo_t *t)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, n, "netns", &p, &end))
        return -1;
    struct in_addr a;
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        double d = 0;
        if (!strcmp(key, "prefix")) {
            if (!yc_number(c, v, "netns.prefix", 8, 30, &d) && d != (int)d)
                yc_problem(c, v, "netns.prefix must be a whole number of bits");
            t->netns_prefix = (int)d;
        } else if (!strcmp(key, "bridge_address")) {
            t->netns_line = (int)v->start_mark.line + 1;
            if (!yc_string(c, v, "netns.bridge_address", t->netns_bridge, sizeof t->netns_bridge) &&
                inet_pton(AF_INET, t->netns_bridge, &a) != 1)
                yc_problem(c, v, "netns.bridge_address must be an IPv4 address (got '%s')",
                           t->netns_bridge);
        } else {
            yc_problem(c, k, "netns: unknown field '%s' (expected prefix, bridge_address)", key);
        }
    }
    return c->failed ? -1 : 0;
}

/* The bridge's address, given or the last usable one of the first host's network, and that
 * it lies in the hosts' network without being a host's. */
static int resolve_netns(yc_ctx_t *c, ekv_topo_t *t)
{
    struct in_addr a;
    char net[16];
    if (inet_pton(AF_INET, t->hosts[0].address, &a) != 1)
        return 0; /* the legacy "localhost": no hosts to put in namespaces */
    uint32_t mask = 0xffffffffu << (32 - t->netns_prefix), first = ntohl(a.s_addr) & mask;
    struct in_addr n = {.s_addr = htonl(first)};
    inet_ntop(AF_INET, &n, net, sizeof net);
    if (!t->netns_bridge[0]) {
        struct in_addr last = {.s_addr = htonl((first | ~mask) - 1)};
        inet_ntop(AF_INET, &last, t->netns_bridge, sizeof t->netns_bridge);
        return 0;
    }
    if (!ekv_topo_in_network(t->netns_bridge, net, t->netns_prefix))
        return yc_problem_at(c, t->netns_line,
                             "netns.bridge_address %s is outside the hosts' network %s/%d",
                             t->netns_bridge, net, t->netns_prefix);
    for (size_t i = 0; i < t->nhosts; i++)
        if (!strcmp(t->hosts[i].address, t->netns_bridge))
            return yc_problem_at(c, t->netns_line, "netns.bridge_address %s is host %s's",
                                 t->netns_bridge, t->hosts[i].name);
    return 0;
}

static int load_hosts(yc_ctx_t *c, yaml_node_t *n, ekv_topo_t *t)
{
    if (!n || n->type != YAML_SEQUENCE_NODE)
        return yc_problem(c, n, "hosts: expected a list of hosts");
    yaml_node_item_t *b = n->data.sequence.items.start, *e = n->data.sequence.items.top;
    if (e - b == 0 || e - b > EKV_TOPO_MAX_HOSTS)
        return yc_problem(c, n, "hosts: expected 1..%d hosts, got %d", EKV_TOPO_MAX_HOSTS,
                          (int)(e - b));
    t->hosts_given = 1;
    for (yaml_node_item_t *i = b; i < e && !c->failed; i++) {
        ekv_topo_host_t *h = &t->hosts[t->nhosts];
        memset(h, 0, sizeof *h);
        if (load_host(c, NODE(*i), h))
            break;
        for (size_t j = 0; j < t->nhosts; j++) {
            if (!strcmp(t->hosts[j].name, h->name))
                return yc_problem(c, NODE(*i), "host name '%s' is used twice", h->name);
            if (!strcmp(t->hosts[j].address, h->address))
                return yc_problem(c, NODE(*i), "hosts %s and %s have the same address %s",
                                  t->hosts[j].name, h->name, h->address);
        }
        t->nhosts++;
    }
    return c->failed ? -1 : 0;
}

/* The index of the host named name (or, for coordinator.host, at that address); -1. */
static int find_host(const ekv_topo_t *t, const char *name, int by_address)
{
    for (size_t i = 0; i < t->nhosts; i++)
        if (!strcmp(t->hosts[i].name, name) || (by_address && !strcmp(t->hosts[i].address, name)))
            return (int)i;
    return -1;
}

/* "no host named 'X' (hosts: a, b, c)" at line. */
static int no_such_host(yc_ctx_t *c, const ekv_topo_t *t, int line, const char *name)
{
    char names[512] = "";
    size_t n = 0;
    for (size_t i = 0; i < t->nhosts && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ", " : "", t->hosts[i].name);
    return yc_problem_at(c, line, "no host named '%s' (hosts: %s)", name, names);
}

/* After the whole file: without `hosts:` one host "local" at coordinator.host, which must then
 * be on loopback (as before hosts existed); with it, the coordinator's host (default: the
 * first) and each tier's and PoP's (default: the coordinator's), and host names that no tier
 * or PoP has (faults name hosts, tiers and PoPs alike). */
static int resolve_hosts(yc_ctx_t *c, ekv_topo_t *t)
{
    ekv_topo_coord_t *co = &t->coord;
    struct in_addr a;
    if (!t->hosts_given) {
        if (!ekv_topo_is_loopback(co->host)) {
            if (inet_pton(AF_INET, co->host, &a) == 1)
                return yc_problem_at(c, co->host_line,
                                     "coordinator.host is an address outside loopback (%s): "
                                     "list it under hosts: and name it",
                                     co->host);
            return yc_problem_at(c, co->host_line,
                                 "no host named '%s' (there is no hosts: section)", co->host);
        }
        ekv_topo_host_t *h = &t->hosts[0];
        snprintf(h->name, sizeof h->name, "local");
        snprintf(h->address, sizeof h->address, "%s", co->host);
        h->line = co->host_line;
        t->nhosts = 1;
    } else if (co->host_line == 0) {
        co->host_index = 0;
        snprintf(co->host, sizeof co->host, "%s", t->hosts[0].name);
    } else if ((co->host_index = find_host(t, co->host, 1)) < 0) {
        return no_such_host(c, t, co->host_line, co->host);
    }
    if (!t->hosts_given) {
        for (size_t i = 0; i < t->ntiers; i++)
            if (t->tiers[i].host[0])
                return yc_problem_at(c, t->tiers[i].host_line,
                                     "tier %s: host '%s' needs a hosts: section", t->tiers[i].name,
                                     t->tiers[i].host);
        for (size_t i = 0; i < t->npops; i++)
            if (t->pops[i].host[0])
                return yc_problem_at(c, t->pops[i].host_line,
                                     "pop %s: host '%s' needs a hosts: section", t->pops[i].name,
                                     t->pops[i].host);
        return 0;
    }
    for (size_t h = 0; h < t->nhosts; h++) {
        for (size_t i = 0; i < t->ntiers; i++)
            if (!strcmp(t->tiers[i].name, t->hosts[h].name))
                return yc_problem_at(c, t->hosts[h].line, "host name '%s' is also a tier's",
                                     t->hosts[h].name);
        for (size_t i = 0; i < t->npops; i++)
            if (!strcmp(t->pops[i].name, t->hosts[h].name))
                return yc_problem_at(c, t->hosts[h].line, "host name '%s' is also a PoP's",
                                     t->hosts[h].name);
    }
    for (size_t i = 0; i < t->ntiers; i++) {
        ekv_topo_tier_t *tr = &t->tiers[i];
        tr->host_index = tr->host[0] ? find_host(t, tr->host, 0) : co->host_index;
        if (tr->host_index < 0)
            return no_such_host(c, t, tr->host_line, tr->host);
    }
    for (size_t i = 0; i < t->npops; i++) {
        ekv_topo_pop_t *pop = &t->pops[i];
        pop->host_index = pop->host[0] ? find_host(t, pop->host, 0) : co->host_index;
        if (pop->host_index < 0)
            return no_such_host(c, t, pop->host_line, pop->host);
    }
    return 0;
}

/* After the whole file (tiers may follow the PoPs): names unique across tiers and PoPs, and
 * each PoP's tier, named or the nearest. */
/* Under push, push-all and invalidate changes keep a PoP's copies current, and a copy fetched
 * from a tier (which keeps its own until its cacheTtl) could be older than a change the PoP has
 * already applied, then served as current for good: tiers serve the pulling policies, ttl and
 * kv, only. */
static int pulls(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    const char *policy = ekv_topo_policy(t, pop);
    return !strcmp(policy, "ttl") || !strcmp(policy, "kv");
}

/* The index of the tier nearest pop (which has coordinates); t has tiers. */
static int nearest_tier(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    double best = INFINITY;
    int at = -1;
    for (size_t i = 0; i < t->ntiers; i++) {
        double km = ekv_topo_distance_km(pop->lat, pop->lon, t->tiers[i].lat, t->tiers[i].lon);
        if (km < best) {
            best = km;
            at = (int)i;
        }
    }
    return at;
}

void ekv_topo_retier(ekv_topo_t *t)
{
    for (size_t j = 0; j < t->npops; j++) {
        ekv_topo_pop_t *pop = &t->pops[j];
        pop->tier_index = -1;
        if (!pulls(t, pop))
            continue;
        for (size_t i = 0; pop->tier[0] && i < t->ntiers; i++)
            if (!strcmp(t->tiers[i].name, pop->tier))
                pop->tier_index = (int)i;
        if (pop->tier_index < 0 && t->ntiers > 0 && pop->has_coords)
            pop->tier_index = nearest_tier(t, pop);
    }
}

static int resolve_tiers(yc_ctx_t *c, ekv_topo_t *t)
{
    for (size_t i = 0; i < t->ntiers; i++)
        for (size_t j = 0; j < t->npops; j++)
            if (!strcmp(t->tiers[i].name, t->pops[j].name))
                return yc_problem_at(
                    c, t->tiers[i].line > t->pops[j].line ? t->tiers[i].line : t->pops[j].line,
                    "%s: name used by both a tier and a PoP", t->tiers[i].name);
    for (size_t j = 0; j < t->npops; j++) {
        ekv_topo_pop_t *pop = &t->pops[j];
        pop->tier_index = -1;
        if (pop->tier[0]) {
            for (size_t i = 0; i < t->ntiers; i++)
                if (!strcmp(t->tiers[i].name, pop->tier))
                    pop->tier_index = (int)i;
            if (pop->tier_index < 0)
                return yc_problem_at(c, pop->tier_line, "pop %s: no tier named '%s'", pop->name,
                                     pop->tier);
            if (!pulls(t, pop))
                return yc_problem_at(c, pop->tier_line,
                                     "pop %s: policy %s keeps copies current by changes; tiers "
                                     "serve ttl and kv PoPs only",
                                     pop->name, ekv_topo_policy(t, pop));
        } else if (t->ntiers > 0 && pulls(t, pop)) {
            if (!pop->has_coords)
                return yc_problem_at(c, pop->line,
                                     "pop %s: give lat and lon (to find its nearest tier) or tier",
                                     pop->name);
            pop->tier_index = nearest_tier(t, pop);
        }
        /* The delay to the tier (and the nearest tier) come from distance: a PoP given only
         * delay_ms has none. */
        if (pop->tier_index >= 0 && !pop->has_coords)
            return yc_problem_at(c, pop->line, "pop %s: reads through tier %s, so give lat and lon",
                                 pop->name, t->tiers[pop->tier_index].name);
    }
    return 0;
}

static void set_defaults(ekv_topo_t *t)
{
    strcpy(t->coord.host, "127.0.0.1");
    t->coord.heartbeat_ms = 100;
    strcpy(t->coord.durability, "fsync");
    strcpy(t->coord.transport.kind, "tcp");
    strcpy(t->coord.transport.interface, "127.0.0.1");
    t->coord.transport.rate_kbps = 100000; /* the daemons' defaults */
    t->coord.transport.recovery_ms = 1000;
    strcpy(t->policy, "push");
    t->cache_ttl = 60;
    t->cache_mb = 64;
    t->route_factor = 1.5;
    t->time_scale = 1;
    t->pin_cpus = 1;
    strcpy(t->jitter, "none");
    t->rto_ms = 200;
    t->min_cache_ttl = 30;
    t->seed = 1;
    t->write_rate_limit = 1;
    t->tier_cache_ttl = 60;
    t->refresh_hot_reads = 2; /* edgekv-node's defaults */
    t->refresh_late = 0.8;
    t->netns_prefix = 24;
}

static int load_root(yc_ctx_t *c, yaml_node_t *root, ekv_topo_t *t)
{
    yaml_node_pair_t *p = NULL, *end = NULL;
    if (yc_pairs(c, root, "top level", &p, &end))
        return -1;
    int have_pops = 0, seen[6] = {0, 0, 0, 0, 0, 0};
    static const char *sections[6] = {"coordinator", "defaults", "pops", "tiers", "hosts", "netns"};
    for (; p < end && !c->failed; p++) {
        yaml_node_t *k = NODE(p->key), *v = NODE(p->value);
        const char *key = yc_scalar(k) ? yc_scalar(k) : "";
        for (int i = 0; i < 6; i++)
            if (!strcmp(key, sections[i]) && seen[i]) /* YAML allows repeated keys; we don't */
                return yc_problem(c, k, "section '%s' given twice (first on line %d)", key,
                                  seen[i]);
        for (int i = 0; i < 6; i++)
            if (!strcmp(key, sections[i]))
                seen[i] = (int)k->start_mark.line + 1;
        if (!strcmp(key, "coordinator"))
            load_coord(c, v, &t->coord);
        else if (!strcmp(key, "defaults"))
            load_defaults(c, v, t);
        else if (!strcmp(key, "pops"))
            have_pops = !load_pops(c, v, t);
        else if (!strcmp(key, "tiers"))
            load_tiers(c, v, t);
        else if (!strcmp(key, "hosts"))
            load_hosts(c, v, t);
        else if (!strcmp(key, "netns"))
            load_netns(c, v, t);
        else
            yc_problem(c, k,
                       "unknown section '%s' (expected hosts, netns, coordinator, defaults, "
                       "tiers, pops)",
                       key);
    }
    if (!c->failed && !have_pops)
        yc_problem(c, root, "the 'pops' list is missing");
    if (!c->failed)
        resolve_tiers(c, t);
    if (!c->failed)
        resolve_hosts(c, t);
    if (!c->failed)
        resolve_netns(c, t);
    return c->failed ? -1 : 0;
}

static int root_fn(yc_ctx_t *c, yaml_node_t *root, void *obj)
{
    return load_root(c, root, obj);
}

ekv_topo_t *ekv_topo_parse(const char *name, const char *text, size_t len, char *err, size_t errlen)
{
    ekv_topo_t *t = ekv_calloc(1, sizeof *t);
    t->hosts = ekv_calloc(EKV_TOPO_MAX_HOSTS, sizeof *t->hosts);
    set_defaults(t);
    if (yc_parse(name, text, len, root_fn, t, err, errlen) != 0)
        ekv_topo_destroy(&t);
    return t;
}

ekv_topo_t *ekv_topo_load(const char *path, char *err, size_t errlen)
{
    char *text;
    size_t len;
    if (yc_read(path, &text, &len, err, errlen) != 0)
        return NULL;
    ekv_topo_t *t = ekv_topo_parse(path, text, len, err, errlen);
    free(text);
    return t;
}

void ekv_topo_destroy(ekv_topo_t **self_p)
{
    if (!*self_p)
        return;
    free((*self_p)->pops);
    free((*self_p)->tiers);
    free((*self_p)->hosts);
    free(*self_p);
    *self_p = NULL;
}

const char *ekv_topo_address(const ekv_topo_t *t, int host_index)
{
    return host_index >= 0 && (size_t)host_index < t->nhosts ? t->hosts[host_index].address
                                                             : t->coord.host;
}

double ekv_topo_distance_km(double lat1, double lon1, double lat2, double lon2)
{
    const double r = 6371.0, rad = M_PI / 180.0;
    double dlat = (lat2 - lat1) * rad, dlon = (lon2 - lon1) * rad;
    double a = sin(dlat / 2) * sin(dlat / 2) +
               cos(lat1 * rad) * cos(lat2 * rad) * sin(dlon / 2) * sin(dlon / 2);
    return 2 * r * asin(sqrt(a < 1 ? a : 1));
}

double ekv_topo_delay_ms(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    if (pop->has_delay)
        return pop->delay_ms;
    double km = ekv_topo_distance_km(t->coord.lat, t->coord.lon, pop->lat, pop->lon);
    return km / 200.0 * t->route_factor;
}

const char *ekv_topo_policy(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    return pop->policy[0] ? pop->policy : t->policy;
}

const char *ekv_topo_jitter(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    return pop->jitter[0] ? pop->jitter : t->jitter;
}

double ekv_topo_loss(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    return pop->has_loss ? pop->loss : t->loss;
}

const ekv_topo_tier_t *ekv_topo_pop_tier(const ekv_topo_t *t, const ekv_topo_pop_t *pop)
{
    return pop->tier_index >= 0 && (size_t)pop->tier_index < t->ntiers ? &t->tiers[pop->tier_index]
                                                                       : NULL;
}

double ekv_topo_tier_delay_ms(const ekv_topo_t *t, const ekv_topo_tier_t *tier)
{
    if (tier->has_delay)
        return tier->delay_ms;
    double km = ekv_topo_distance_km(t->coord.lat, t->coord.lon, tier->lat, tier->lon);
    return km / 200.0 * t->route_factor;
}

double ekv_topo_pop_tier_delay_ms(const ekv_topo_t *t, const ekv_topo_pop_t *pop,
                                  const ekv_topo_tier_t *tier)
{
    double km = ekv_topo_distance_km(pop->lat, pop->lon, tier->lat, tier->lon);
    return km / 200.0 * t->route_factor;
}

double ekv_topo_tier_cache_ttl(const ekv_topo_t *t, const ekv_topo_tier_t *tier)
{
    return tier->has_cache_ttl ? tier->cache_ttl : t->tier_cache_ttl;
}
