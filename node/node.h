/* node: one PoP, a libevent loop holding the HTTP surface, the SUB and DEALER sockets to the
 * coordinator, the link model and the local cache.
 *
 * Everything that crosses the simulated WAN goes through a link (link.h): requests to the
 * coordinator wait one one-way delay before they are sent; changes, heartbeats and replies
 * wait until their send time plus the delay before they are handled, FIFO. A change is
 * applied to the cache per the propagation policy when its simulated arrival time comes, and
 * its visibility delay (apply time minus commit time) is recorded. A write made through this
 * PoP is applied here when its acknowledgement arrives (read-your-writes).
 *
 * Sequence numbers from the coordinator are gap-free; the node tracks the highest contiguous
 * sequence it has applied, and a gap (or a heartbeat announcing a newer sequence) makes it
 * ask for catch-up from the change log while it goes on serving reads.
 *
 * Ownership: the node owns its sockets, cache, links and HTTP server; it borrows the event
 * base, which main frees after ekv_node_destroy(). */
#ifndef EKV_NODE_H
#define EKV_NODE_H

#include <stddef.h>
#include <stdint.h>

#include "link.h"
#include "policy.h"

struct event_base;
struct ekv_sec;
typedef struct ekv_node ekv_node_t;

typedef struct {
    const char *name;            /* PoP name, shown in logs and stats */
    const char *http_host;       /* listen address */
    int http_port;               /* 0 = ephemeral */
    const char *pub_endpoint;    /* coordinator PUB */
    const char *router_endpoint; /* coordinator ROUTER */
    int pub_rate_kbps;           /* epgm/pgm SUB: as the coordinator's (sizes the repair window) */
    int pub_recovery_ms;         /* epgm/pgm SUB: as the coordinator's; 0 (both): ZeroMQ's */
    ekv_link_model_t link;       /* one-way delay, jitter, loss: simulated time */
    uint64_t seed;               /* seed of the link's random draws */
    double time_scale;           /* simulated durations are divided by this (>= 0.001) */
    int coordinator_timeout_ms;  /* no heartbeat for this long: the coordinator is down */
    ekv_policy_t policy;         /* propagation policy */
    const char *default_ns;      /* namespace when the request names none */
    size_t cache_bytes;          /* cache memory cap */
    int64_t min_cache_ttl;       /* seconds, simulated */
    int origin_timeout_ms;       /* a coordinator request fails with 503 after this */
    int refresh_hot_reads;       /* kv: a copy read this often since stored is hot (0: off) */
    double refresh_late;         /* kv: a hot copy read past this share of its cacheTtl is
                                    refreshed in the background (0..1) */
    const char *ready_file;      /* written once serving; NULL for none */
    /* A PoP that reads through a regional tier: its origin reads (misses, refreshes) go to
     * the tier's ROUTER over links of their own; writes, lists and catch-up still go to the
     * coordinator. NULL: reads go to the coordinator. */
    const char *tier_endpoint;
    ekv_link_model_t tier_link; /* PoP <-> tier: delay, jitter, loss (simulated time) */
    /* The tier role (a regional tier, see tier.c): a ROUTER bound at serve_endpoint answers
     * the READs of its PoPs from this node's cache, which keeps copies for tier_cache_ttl. */
    int tier_role;
    const char *serve_endpoint;
    int64_t tier_cache_ttl; /* seconds, simulated */
    int purge_on_write;     /* tier: a change drops the cached copy of its key */
    /* CURVE keys and token (borrowed); NULL or keyless: plain sockets, open HTTP */
    const struct ekv_sec *sec;
} ekv_node_config_t;

void ekv_node_config_defaults(ekv_node_config_t *cfg);

/* Binds HTTP, connects to the coordinator and says hello. NULL with errbuf set on failure. */
ekv_node_t *ekv_node_new(struct event_base *base, const ekv_node_config_t *cfg, char *errbuf,
                         size_t errlen);
void ekv_node_destroy(ekv_node_t **self_p);

#endif
