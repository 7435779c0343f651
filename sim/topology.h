/* topology: the world a run simulates, loaded from topology.yaml (docs/topology.md).
 *
 * The coordinator's site and ports, defaults for every PoP, and the PoPs themselves with
 * their coordinates. Each PoP's one-way delay to the coordinator is its own delay_ms when
 * given, else the great-circle distance / 200 km per ms (light in fiber) x route_factor.
 * Optional regional tiers (`tiers:`) sit between PoPs and the coordinator: a PoP reads
 * through the tier it names, else the nearest one.
 * Loading checks every field's type and range and rejects unknown keys, naming the file, the
 * line and the problem. Parsing is pure (no I/O beyond reading the file) and is fuzzed. */
#ifndef EKV_TOPOLOGY_H
#define EKV_TOPOLOGY_H

#include <stddef.h>

#define EKV_TOPO_MAX_HOSTS 64

typedef struct {
    char name[64]; /* unique, [a-z0-9-] */
    char city[128];
    char iata[8];
    double lat, lon; /* degrees; valid when has_coords */
    int has_coords;
    double delay_ms; /* one-way delay override; valid when has_delay */
    int has_delay;
    char policy[16]; /* per-PoP policy override, "" for the default */
    char jitter[48]; /* per-PoP jitter override ("uniform:5"...), "" for the default */
    double loss;     /* per-PoP loss override; valid when has_loss */
    int has_loss;
    char tier[64];  /* the tier named by `tier:`, "" when none (then the nearest, if any) */
    int tier_line;  /* where `tier:` was given */
    int tier_index; /* the tier it reads through (named or nearest); -1: the coordinator */
    char host[64];  /* the host named by `host:`, "" for the coordinator's */
    int host_line;  /* where `host:` was given */
    int host_index; /* index into ekv_topo_t.hosts */
    int line;       /* where it was defined (1-based) */
} ekv_topo_pop_t;

/* A regional tier: a node in the tier role, a cache shared by the PoPs that read through it
 * (docs/topology.md). */
typedef struct {
    char name[64]; /* unique among tiers and PoPs, [a-z0-9-] */
    char city[128];
    char iata[8];
    double lat, lon;  /* degrees (required: PoPs find their nearest tier by them) */
    double cache_ttl; /* seconds, simulated; valid when has_cache_ttl */
    int has_cache_ttl;
    double delay_ms; /* one-way delay override to the coordinator; valid when has_delay */
    int has_delay;
    char host[64]; /* as for PoPs */
    int host_line;
    int host_index;
    int line;
} ekv_topo_tier_t;

/* A machine (or network namespace) the world's processes run on (`hosts:`). Every address a
 * daemon binds comes from its host. Without `hosts:` the loader makes one host "local" at
 * coordinator.host (loopback), as before hosts existed. */
typedef struct {
    char name[64];    /* unique among hosts, tiers and PoPs, [a-z0-9-] */
    char address[64]; /* IPv4 given in `hosts:`; the legacy "local" host keeps coordinator.host */
    double skew_ms;   /* clock_skew_ms: added to every daemon's clock on this host (tests) */
    double delay_ms;  /* `up --netns --netem` only: the kernel's one-way delay on its link */
    int line;
} ekv_topo_host_t;

/* How the coordinator publishes changes and heartbeats (coordinator.transport,
 * docs/topology.md): over TCP, one connection and one send per PoP and tier, or over epgm
 * (PGM in UDP multicast), one send for all. Requests, replies and catch-up stay on TCP. */
typedef struct {
    char kind[8];       /* tcp | epgm */
    char group[16];     /* epgm: IPv4 multicast group, 224.0.0.0/4 */
    int port;           /* epgm: the group's port; 0 = one picked at `edgekv up` */
    char interface[16]; /* epgm: address of the interface to send and receive on (loopback) */
    int rate_kbps;      /* epgm: PGM rate limit; with recovery_ms it sizes the repair window */
    int recovery_ms;    /* epgm: how long a lost packet can still be repaired */
    int setup;          /* epgm: 1 = `up` enables multicast on the interface, `down` undoes it */
} ekv_topo_transport_t;

typedef struct {
    char city[128];
    char iata[8];
    double lat, lon;
    char host[64]; /* a host's name, or (without `hosts:`) the loopback address of them all */
    int host_line;
    int host_index;                       /* index into ekv_topo_t.hosts */
    int http_port, pub_port, router_port; /* 0 = ephemeral */
    double heartbeat_ms;   /* real ms between heartbeats; PoPs give up after max(1 s, 3 missed) */
    char durability[16];   /* fsync | wal | none: when a write is acknowledged (--durability) */
    double api_rate_limit; /* REST API requests per 5 simulated minutes; 0 = off */
    /* PUB's transport (changes and heartbeats) */
    ekv_topo_transport_t transport;
} ekv_topo_coord_t;

typedef struct {
    ekv_topo_coord_t coord;
    char policy[16];         /* push | push-all | invalidate | ttl */
    double cache_ttl;        /* seconds */
    double cache_mb;         /* per-PoP cache cap */
    double route_factor;     /* >= 1 */
    double time_scale;       /* > 0 */
    int http_port_base;      /* PoP i listens on base + 1 + i; 0 = ephemeral */
    int pin_cpus;            /* 1: PoP i runs on allowed CPU i mod n (both its threads) */
    char jitter[48];         /* link jitter: none | uniform:MS | normal:MS | pareto:MS:SHAPE */
    double loss;             /* probability a transmission is lost, 0..0.9 */
    double rto_ms;           /* retransmission timeout per loss */
    double min_cache_ttl;    /* smallest cacheTtl a read may ask for, seconds */
    long seed;               /* seed of every PoP's link draws (PoP i uses seed + i) */
    double write_rate_limit; /* writes per second allowed to one key (simulated); 0 = off */
    double tier_cache_ttl;   /* seconds a tier keeps a copy, unless the tier says otherwise */
    int tier_purge_on_write; /* 1: a change drops the tiers' copies of its key */
    int refresh_hot_reads;   /* refresh-ahead: reads since stored that make a copy hot; 0 = off */
    double refresh_late; /* ... and the share of its cacheTtl after which a hot read refreshes */
    ekv_topo_pop_t *pops;
    size_t npops;
    ekv_topo_tier_t *tiers; /* regional tiers; none: PoPs read from the coordinator */
    size_t ntiers;
    ekv_topo_host_t *hosts; /* at least one (the legacy "local" host) */
    size_t nhosts;
    int hosts_given; /* 1: from `hosts:`; 0: the one host made from coordinator.host */
    /* `netns:` (`edgekv up --netns` only): the hosts' network around the bridge's address. */
    int netns_prefix;      /* 8..30; default 24 */
    char netns_bridge[16]; /* default: the last usable address of the first host's network */
    int netns_line;        /* where bridge_address was given */
} ekv_topo_t;

/* Loads and validates the file. NULL with "FILE:LINE: problem" in err on failure. */
ekv_topo_t *ekv_topo_load(const char *path, char *err, size_t errlen);
/* The same from text in memory; name is used in messages. */
ekv_topo_t *ekv_topo_parse(const char *name, const char *text, size_t len, char *err,
                           size_t errlen);
void ekv_topo_destroy(ekv_topo_t **self_p);

/* 1 when IPv4 address addr lies in the network net/prefix (both dotted quads). */
int ekv_topo_in_network(const char *addr, const char *net, int prefix);
/* The address of host i (the coordinator's, tiers' and PoPs' host_index). */
const char *ekv_topo_address(const ekv_topo_t *t, int host_index);
/* 1 when address is "localhost" or in 127.0.0.0/8 (Linux routes all of it to lo, so such hosts
 * run on this machine without namespaces). */
int ekv_topo_is_loopback(const char *address);

/* Great-circle distance in km (haversine, mean Earth radius 6371 km). */
double ekv_topo_distance_km(double lat1, double lon1, double lat2, double lon2);
/* The PoP's one-way delay in ms, in simulated time (before time_scale). */
double ekv_topo_delay_ms(const ekv_topo_t *t, const ekv_topo_pop_t *pop);
/* The policy, jitter and loss in force at the PoP. */
const char *ekv_topo_policy(const ekv_topo_t *t, const ekv_topo_pop_t *pop);
const char *ekv_topo_jitter(const ekv_topo_t *t, const ekv_topo_pop_t *pop);
double ekv_topo_loss(const ekv_topo_t *t, const ekv_topo_pop_t *pop);
/* The tier the PoP reads through (its `tier:`, else the nearest by great-circle distance), or
 * NULL when the topology has no tiers or the PoP's policy pushes (push, push-all, invalidate:
 * tiers serve ttl and kv PoPs only). */
/* After the PoPs' policies changed (a run's policy): PoPs under push, push-all and invalidate
 * read through no tier; PoPs under ttl or kv keep the tier they name or read through the
 * nearest. */
void ekv_topo_retier(ekv_topo_t *t);

const ekv_topo_tier_t *ekv_topo_pop_tier(const ekv_topo_t *t, const ekv_topo_pop_t *pop);
/* One-way delays in ms, simulated: tier to coordinator (its delay_ms, else from distance), and
 * PoP to its tier (from distance, x route_factor). */
double ekv_topo_tier_delay_ms(const ekv_topo_t *t, const ekv_topo_tier_t *tier);
double ekv_topo_pop_tier_delay_ms(const ekv_topo_t *t, const ekv_topo_pop_t *pop,
                                  const ekv_topo_tier_t *tier);
/* The tier's cacheTtl in seconds (its own, else defaults.tier_cache_ttl). */
double ekv_topo_tier_cache_ttl(const ekv_topo_t *t, const ekv_topo_tier_t *tier);

#endif
