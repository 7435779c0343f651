/* node_int: the node's internals, shared by node.c (links, sockets, changes) and http.c
 * (the HTTP surface). Not for use outside node/. */
#ifndef EKV_NODE_INT_H
#define EKV_NODE_INT_H

#include <event2/http.h>

#include "cache.h"
#include "ekv_hist.h"
#include "ekv_loop.h"
#include "ekv_msg.h"
#include "ekv_zev.h"
#include "link.h"
#include "vis.h"
#include "node.h"

#define VIS_RING      8192 /* recent first-visibility records kept for /_edgekv/wait */
#define READS_BUCKETS 4096 /* index of origin reads in flight, by key */

/* A request this node sent to the coordinator and awaits an answer to. */
typedef struct pending pending_t;
struct pending {
    uint64_t req_id;            /* correlation id */
    ekv_msg_type_t kind;        /* EKV_MSG_READ, WRITE, HELLO or CATCHUP */
    struct evhttp_request *req; /* the HTTP request to answer; NULL for internal ones */
    ekv_msg_t *write;           /* WRITE: the request as sent (for read-your-writes) */
    char *ns, *key;             /* READ: what was asked (owned) */
    size_t ns_len, key_len;
    int64_t cache_ttl_s;               /* READ: cacheTtl of the asking read */
    int64_t deadline_us;               /* fail with 503 after this (monotonic) */
    struct bulk_get *bulk;             /* READ for a bulk get: the operation it belongs to */
    size_t bulk_index;                 /* ...and which of its keys */
    const char *cache_status;          /* READ: "MISS" or "EXPIRED" */
    struct evhttp_request **followers; /* READ: later misses of the same key, answered too */
    size_t nfollowers;
    pending_t *key_chain;     /* READ: next in the reads-in-flight index */
    int indexed;              /* READ: listed in that index */
    unsigned gen;             /* HELLO, CATCHUP: the node's gen when asked */
    pending_t *chain;         /* next in the id bucket */
    pending_t *older, *newer; /* deadline order (FIFO: the timeout is constant) */
};

typedef ekv_vis_rec_t vis_t;

/* A /_edgekv/wait request parked until a sequence becomes visible. */
typedef struct waiter waiter_t;
struct waiter {
    uint64_t seq;
    struct evhttp_request *req;
    int64_t deadline_us; /* monotonic */
    waiter_t *next;
};

typedef struct {
    uint64_t hits, misses, stale_hits;    /* reads served from cache / not */
    uint64_t origin_reads, origin_writes; /* requests sent to the coordinator */
    uint64_t origin_errors;               /* timeouts and failures */
    uint64_t changes_applied, changes_ignored;
    uint64_t gaps, catchups, malformed, resyncs;
    uint64_t lists, bulk_gets;
    uint64_t coalesced, unavailable; /* misses joined to a fetch; fast 503s */
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
    struct evhttp *http;
    int http_port;
    uint64_t next_req_id;
    pending_t **pend; /* id hash of pending requests */
    size_t npend_buckets;
    pending_t *oldest, *newest; /* pending in deadline order */
    struct ekv_replica *replica; /* where this PoP stands in the change stream */
    unsigned gen;                /* bumped when the coordinator's store changes (resync) */
    uint64_t applied_seq;        /* mirrors of the replica's applied and announced */
    uint64_t announced_seq;      /* sequences, for the admin endpoints */
    int heartbeat_seen, ready_written;
    int64_t clock_offset_us;      /* coordinator clock minus ours, from hello */
    int64_t last_heartbeat_us;    /* monotonic time the last heartbeat was handled */
    int partitioned;              /* fault: everything to and from the coordinator is lost */
    pending_t **reads_idx;        /* plain GET misses in flight, by (ns, key) */
    ekv_vis_t *vis;               /* first visibility of recent changes, and their delays */
    waiter_t *waiters;
    node_stats_t st;
};

/* node.c, for http.c */
pending_t *node_pending_new(ekv_node_t *n, ekv_msg_type_t kind, struct evhttp_request *req);
/* Encodes msg (setting its req_id from p) and sends it over the up link. */
void node_send_request(ekv_node_t *n, pending_t *p, ekv_msg_t *msg);
/* Looks up a visibility record for seq; NULL when not in the ring. */
const vis_t *node_vis_find(const ekv_node_t *n, uint64_t seq);
void node_wait_add(ekv_node_t *n, uint64_t seq, struct evhttp_request *req, int timeout_ms);
/* Fault control: cut the link (everything sent either way is lost) or restore it. */
void node_set_partition(ekv_node_t *n, int on);
/* Fault control: a new link model (simulated time; scaled here) for later messages. */
void node_set_link(ekv_node_t *n, const ekv_link_model_t *model);

/* 1 while heartbeats arrive: writes and misses fail fast with 503 otherwise. */
int node_coordinator_up(const ekv_node_t *n);
/* The origin READ in flight for (ns, key), or NULL; and (un)registering one. */
pending_t *node_read_find(ekv_node_t *n, ekv_bytes_t ns, ekv_bytes_t key);
void node_read_index(ekv_node_t *n, pending_t *p);
/* The fresh-until time an entry gets under the node's policy. */
int64_t node_fresh_until(const ekv_node_t *n, int64_t now_us, int64_t cache_ttl_s);

/* http.c, for node.c */
int node_http_open(ekv_node_t *n, char *errbuf, size_t errlen);
/* Answers a READ (from origin) or WRITE (acknowledged or refused) HTTP request. */
void node_http_read_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *reply);
void node_http_write_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *reply);
void node_http_fail(struct evhttp_request *req, int status, const char *message);
void node_http_list_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *reply);

/* http_admin.c, for http.c: serves /_edgekv/..., /metrics and /stats; 0 if not one of them */
int node_http_admin(ekv_node_t *n, struct evhttp_request *req, const char *path,
                    struct evkeyvalq *q);

/* http_bulk.c, for http.c and node.c */
void node_http_list(ekv_node_t *n, struct evhttp_request *req, const char *ns, struct evkeyvalq *q);
void node_http_bulk_get(ekv_node_t *n, struct evhttp_request *req, const char *ns);
/* A bulk get's READ was answered (reply NULL: it failed); completes the bulk when last. */
void node_bulk_read_done(ekv_node_t *n, pending_t *p, const ekv_msg_t *reply);

void node_http_wait_done(struct evhttp_request *req, uint64_t seq, const vis_t *v);

#endif
