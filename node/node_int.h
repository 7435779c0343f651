/* node_int: what the PoP's core (node.c) and its HTTP surface (http.c, http_bulk.c,
 * http_admin.c) share. Not for use outside node/.
 *
 * The core knows no HTTP: the surface asks it for a read, a write, a list or a wait with a
 * completion (node_done_fn and a context), and the core calls that completion exactly once
 * with a node_result_t, at once (a cache hit) or when the coordinator answers, times out, or
 * the PoP shuts down. Requests in flight (pending_t), the reads-in-flight index and the
 * waiters are the core's own (node.c); the change stream and the replica tracker are followed
 * in node_changes.c, the links in node_link.c. */
#ifndef EKV_NODE_INT_H
#define EKV_NODE_INT_H

#include "cache.h"
#include "clock.h"
#include "ekv_hist.h"
#include "ekv_loop.h"
#include "ekv_msg.h"
#include "ekv_time.h"
#include "ekv_zev.h"
#include "link.h"
#include "node.h"
#include "vis.h"

#define VIS_RING    8192 /* recent first-visibility records kept for /_edgekv/wait */
#define SERVED_KEYS 4096 /* keys with changes not yet served, tracked at most (policy.h) */
#define LIST_GENS   1024 /* kv: list generations, by namespace hash (node.c, list cache) */

typedef ekv_vis_rec_t vis_t;
typedef struct pending pending_t; /* a request to the coordinator in flight (node.c) */
typedef struct waiter waiter_t;   /* a wait for a sequence to become visible (node.c) */

typedef struct {
    uint64_t hits, misses, stale_hits;    /* reads served from cache / not */
    uint64_t origin_reads, origin_writes; /* requests sent to the coordinator */
    uint64_t origin_errors;               /* timeouts and failures */
    uint64_t changes_applied, changes_ignored;
    uint64_t gaps, catchups, malformed, resyncs;
    uint64_t lists, bulk_gets;
    uint64_t coalesced, unavailable; /* misses joined to a fetch; fast 503s */
    uint64_t refreshes;              /* kv: background refreshes of hot copies sent */
    uint64_t refresh_hits;           /* hits served from a copy a refresh stored */
    uint64_t list_hits, list_misses; /* kv: lists served from the list cache / not */
    uint64_t tier_reads, tier_hits;  /* origin reads sent to the tier / answered from its cache */
    uint64_t tier_requests;          /* tier role: READs of PoPs received */
    uint64_t purges;                 /* tier role, purge on write: copies dropped by changes */
    uint64_t rate_limited;           /* requests answered 429 (a write over a rate limit) */
} node_stats_t;

struct ekv_node {
    struct event_base *base; /* borrowed */
    ekv_node_config_t cfg;   /* strings borrowed from main */
    ekv_cache_t *cache;
    void *zctx, *sub, *dealer; /* ZeroMQ */
    ekv_zev_t *sub_zev, *dealer_zev;
    ekv_link_t *up;               /* to the coordinator: encoded request bodies */
    ekv_link_t *down;             /* from it: decoded messages */
    ekv_msg_t *spare_msg;         /* a finished message struct kept for the next receive */
    ekv_fine_timer_t *link_timer; /* the next due delivery on either link: microsecond-
                                     precise on a loop whose own timers are not */
    int64_t link_armed;           /* the due time link_timer is set for (INT64_MAX: none) */
    struct event *tick_ev;        /* timeouts, expiry, waiters */
    struct evhttp *http;          /* the HTTP surface (http.c) */
    int http_port;
    uint64_t next_req_id;
    pending_t **pend; /* id hash of pending requests */
    size_t npend_buckets;
    pending_t *oldest, *newest;  /* pending in deadline order */
    struct ekv_replica *replica; /* where this PoP stands in the change stream */
    unsigned gen;                /* bumped when the coordinator's store changes (resync) */
    int heartbeat_seen, ready_written;
    ekv_clock_t clock;         /* the coordinator's clock as estimated here (clock.h) */
    int64_t last_heartbeat_us; /* monotonic time the last heartbeat was handled */
    int partitioned;           /* fault: everything to and from the coordinator is lost */
    pending_t **reads_idx;     /* plain GET misses in flight, by (ns, key) */
    ekv_vis_t *vis;            /* first visibility of recent changes, and their delays */
    ekv_served_t *served;      /* when recent changes were first served by a read here */
    waiter_t *waiters;
    void *tier_dealer; /* PoP: to its regional tier (NULL: none) */
    ekv_zev_t *tier_dealer_zev;
    ekv_link_t *tier_up, *tier_down; /* PoP <-> tier, as up and down (NULL: no tier) */
    void *router;                    /* tier role: where its PoPs' READs arrive */
    ekv_zev_t *router_zev;
    struct ekv_zap *zap;          /* tier role with server keys: the CURVE clients' check */
    char serve_bound[128];        /* tier role: the endpoint bound (the port resolved) */
    uint64_t list_gen[LIST_GENS]; /* kv: bumped by a write through this PoP to a namespace
                                     hashed there, so its cached lists are found no more */
    node_stats_t st;
};

/* The PoP's now: its wall clock corrected to the coordinator's (clock.h), the one domain of
 * every stamp it compares (commit times, link send times, visibility, expirations). Only
 * the TIME exchange reads the raw clock. */
static inline int64_t node_now_us(const ekv_node_t *n)
{
    return ekv_now_us() + ekv_clock_offset_us(&n->clock);
}

/* ---- the core (node.c), for the HTTP surface ---------------------------------------- */

/* The outcome of a request, borrowed for the duration of the completion call. */
typedef struct {
    int status;                   /* 200, or an HTTP-style failure status */
    const char *message;          /* the failure's text (status != 200) */
    const ekv_cache_item_t *item; /* node_read: what to serve (positive or negative) */
    const char *cache_status;     /* node_read: "HIT", "MISS", "EXPIRED" or "STALE" */
    uint64_t seq;                 /* node_write: the version written; node_wait: the seq */
    int64_t commit_us;            /* node_write: its commit time */
    const ekv_msg_t *list;        /* node_list: the coordinator's LIST_REPLY */
    const vis_t *vis;             /* node_wait: when seq became visible (NULL: timed out) */
    int64_t served_us;            /* node_wait: when a read here first returned seq (0: not
                                     yet, or not known) */
} node_result_t;

/* Called exactly once per request, on the loop thread. */
typedef void (*node_done_fn)(ekv_node_t *n, void *ctx, const node_result_t *r);

/* Reads (ns, key) as a Worker's get with cacheTtl cache_ttl_s: a fresh cached copy at once
 * (HIT; under kv a hot copy late in its cacheTtl is also refreshed in the background, see
 * node.c "refresh-ahead"); otherwise from origin, the coordinator or the PoP's regional tier
 * (MISS, or EXPIRED for a stale copy), joining a fetch of the same key already under way; a
 * stale copy when origin is down (STALE), else 503 (a PoP with a tier asks the tier while the
 * coordinator is down, unless a partition cuts it off: the tier answers for itself). The copy
 * fetched is cached; when the cache meanwhile got a newer version (a push
 * overtook the reply), that newer one is served. */
void node_read(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key, int64_t cache_ttl_s,
               node_done_fn done, void *ctx);
/* 1 while an origin read of (ns, key) is in flight (a miss, or a kv refresh-ahead). */
int node_fetching(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key);
/* Sends a WRITE (built by the caller, owned by the core from here). Acknowledged, it is
 * cached at once (read-your-writes) and done gets its version; refused or timed out, the
 * status and message. 503 at once when the coordinator is down. */
void node_write(ekv_node_t *n, ekv_msg_t *write, node_done_fn done, void *ctx);
/* Lists keys of ns with prefix after `after` (exclusive), at most limit, at the coordinator
 * (list results lag like reads: they travel the link). Under kv a reply is cached for the
 * default cacheTtl and served from there while fresh; a write acknowledged through this PoP
 * drops its namespace's cached lists (read-your-writes), other PoPs' lists lag. */
void node_list(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t prefix, ekv_bytes_t after, uint64_t limit,
               node_done_fn done, void *ctx);
/* Waits until change seq is visible here (arrived; served: returned by a read here), at most
 * timeout_ms (done with r->vis NULL and r->served_us 0 then). */
void node_wait(ekv_node_t *n, uint64_t seq, int served, int timeout_ms, node_done_fn done,
               void *ctx);

/* Fault control: cut the link (everything sent either way is lost) or restore it. */
void node_set_partition(ekv_node_t *n, int on);
/* Fault control: a new link model (simulated time; scaled here) for later messages. */
void node_set_link(ekv_node_t *n, const ekv_link_model_t *model);
/* 1 while the coordinator is heard on either socket (a heartbeat or a reply) within the
 * silence period: writes and misses fail fast with 503 otherwise. */
int node_coordinator_up(const ekv_node_t *n);
/* The fresh-until time an entry gets under the node's policy. */
int64_t node_fresh_until(const ekv_node_t *n, int64_t now_us, int64_t cache_ttl_s);

/* For tests of the core: hands a message to the core as if the down link delivered it at
 * now_us, and the id the next request will carry. */
void node_deliver(ekv_node_t *n, ekv_msg_t *m, int64_t now_us);
uint64_t node_next_req_id(const ekv_node_t *n);

/* ---- the core and the change stream (node.c <-> node_changes.c) ----------------------- */

/* node.c: sends a HELLO or CATCHUP nobody waits for, tagged with the store generation (a
 * reply after a resync is ignored); a lost one is asked again when it times out. */
void node_send_own(ekv_node_t *n, ekv_msg_t *msg);
/* node.c: starts the housekeeping tick unless it runs (timeouts, waiters, paused catch-ups). */
void node_tick_arm(ekv_node_t *n);
/* node.c: records the first time seq became visible here (now) and answers its waiters. */
void node_record_visible(ekv_node_t *n, uint64_t seq, int64_t commit_us, int64_t now);
/* node.c: change c arrived (now): under a pushing policy a read here returns it from now on;
 * under ttl and kv only once a read fetched it. */
void node_note_change(ekv_node_t *n, const ekv_msg_t *c, int64_t now);

/* node_changes.c: a pushed change, handed over by the down link at now (when it becomes
 * visible): applied under the policy unless before the baseline or already applied; a gap
 * asks for a catch-up. */
void node_on_change(ekv_node_t *n, const ekv_msg_t *c, int64_t now);
/* node_changes.c: a CATCHUP_REPLY of the current store: log entries, a snapshot page, or busy
 * (asked again later). */
void node_on_catchup_reply(ekv_node_t *n, const ekv_msg_t *r);
/* node_changes.c: carries out what the replica tracker asked for (EKV_REPLICA_* bits). */
void node_act(ekv_node_t *n, int what);
/* node_changes.c: says hello to the coordinator with the sequence applied so far. */
void node_say_hello(ekv_node_t *n);
/* Writes the ready file once the PoP is caught up, has heard a heartbeat and has its clock
 * (the first burst of samples); a no-op before that and after. */
void node_write_ready(ekv_node_t *n);

/* ---- the tier role (tier.c), for the core ------------------------------------------- */

/* Binds the ROUTER at cfg.serve_endpoint and starts answering READs; and stops. */
int node_tier_open(ekv_node_t *n, char *errbuf, size_t errlen);
void node_tier_close(ekv_node_t *n);

/* ---- the links (node_link.c), for the core ----------------------------------------------- */

/* A link model in real time: every simulated duration divided by time_scale. */
ekv_link_model_t node_link_scaled(ekv_link_model_t m, double time_scale);
/* Encodes msg and puts it on the up link to the coordinator, or to the tier (via_tier). */
void node_link_send(ekv_node_t *n, int via_tier, ekv_msg_t *msg);
/* The link timer's callback, and the sockets' (SUB, DEALER to the coordinator, to the tier). */
void node_link_on_timer(void *arg);
/* Sends a TIME to the coordinator when the clock filter wants one (clock.h): on the DEALER
 * at once, past the link model and the simulated partition (the machine's clock discipline,
 * not the simulated WAN's; a seeded link would draw from its generator). */
void node_link_clock_poll(ekv_node_t *n);
void node_link_on_sub(void *sock, void *arg);
void node_link_on_dealer(void *sock, void *arg);
void node_link_on_tier(void *sock, void *arg);
/* Makes the ZeroMQ sockets and connects them (SUB and DEALER to the coordinator, DEALER to
 * the tier when configured); EKV_EIO with a message on failure. */
int node_link_open(ekv_node_t *n, char *errbuf, size_t errlen);
/* Frees whatever is still queued on every link (at shutdown). */
void node_link_drain(ekv_node_t *n);

/* ---- the HTTP surface (http.c), for the core ------------------------------------------- */

/* Starts serving HTTP (cfg.http_host, cfg.http_port); and stops. */
int node_http_open(ekv_node_t *n, char *errbuf, size_t errlen);
void node_http_close(ekv_node_t *n);

/* ---- within the surface ---------------------------------------------------------------- */

struct evhttp_request;
struct evkeyvalq;
/* http.c: node_http_fail for a request of the PoP's binding, counting every 429 (a write
 * over the coordinator's per-key or API rate limit, or one the PoP refuses itself). */
void node_http_fail_n(ekv_node_t *n, struct evhttp_request *req, int status, const char *message);
/* http_admin.c: serves /_edgekv/..., /metrics and /stats; 0 if not one of them. */
int node_http_admin(ekv_node_t *n, struct evhttp_request *req, const char *path,
                    struct evkeyvalq *q);
/* http_bulk.c: list and bulk get. */
void node_http_list(ekv_node_t *n, struct evhttp_request *req, const char *ns, struct evkeyvalq *q);
void node_http_bulk_get(ekv_node_t *n, struct evhttp_request *req, const char *ns);

#endif
