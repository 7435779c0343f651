/* coord_int: the coordinator's internals, shared by coord.c (loop, group commit, nodes),
 * coord_ns.c (namespaces) and rest.c / rest_bulk.c (the REST API). Not for use outside
 * coordinator/. */
#ifndef EKV_COORD_INT_H
#define EKV_COORD_INT_H

#include <event2/http.h>
#include <pthread.h>

#include "coord.h"
#include "ekv_kv.h"
#include "ekv_loop.h"
#include "ratelimit.h"
#include "store.h"

/* A unit of work committed atomically within one group: n CHANGE drafts (op, ns, key,
 * expiration, flags, meta, value; bytes owned by the submitter until done runs). After the
 * group is durable, seq and time_us of each draft are set and done(c, cm, EKV_OK) runs; on a
 * storage failure done runs with EKV_ESTORE and nothing was stored. */
typedef struct commit commit_t;
typedef void (*commit_done_fn)(ekv_coord_t *c, commit_t *cm, int rc);
struct commit {
    ekv_msg_t *changes; /* drafts */
    size_t n;
    commit_done_fn done; /* completion (must free cm if it owns it) */
    void *arg;           /* submitter's context */
    commit_t *next;      /* queue link */
};

/* Counters behind /metrics. */
typedef struct {
    uint64_t reads, writes, deletes, lists; /* operations (REST and nodes) */
    uint64_t bytes_in, bytes_out;           /* value bytes written and read */
    uint64_t published, commits, malformed; /* changes published, groups, dropped frames */
    uint64_t published_bytes;               /* bytes of the published frames (topic + body) */
    uint64_t expired;                       /* keys deleted by the sweeper */
    uint64_t catchups, snapshots;           /* catch-up requests, snapshot pages */
    uint64_t busy;                          /* writes and catch-ups refused: queue full */
    uint64_t errors[600];                   /* error replies by HTTP status */
} coord_stats_t;

struct ekv_coord {
    struct event_base *base; /* borrowed */
    ekv_coord_config_t cfg;  /* configuration (strings borrowed) */
    ekv_store_t *store;
    ekv_ratelimit_t *rate;     /* same-key write limit */
    void *zctx, *pub, *router; /* ZeroMQ */
    struct ekv_zev *router_zev;
    struct ekv_zap *zap;       /* the CURVE clients' check, with server keys; else NULL */
    struct event *flush_ev;    /* commits the queued units */
    pthread_mutex_t pub_mu;    /* PUB is used by the commit thread (changes) and the loop
                                  (heartbeats): pub, published_seq and st.published* under it */
    uint64_t published_seq;    /* the last change offered to PUB: heartbeats and hello replies
                                  announce it, never a commit whose publication is still due */
    struct event *hb_ev;       /* heartbeats */
    struct event *hello_hb_ev; /* an early heartbeat for PoPs that just said hello */
    struct event *sweep_ev;    /* expiry sweep, log trim, rate-limit pruning */
    struct evhttp *http;       /* REST API, /metrics, /health */
    int http_port;
    char pub_ep[256], router_ep[256];  /* bound endpoints */
    commit_t *queue_head, *queue_tail; /* units waiting for the next group */
    size_t queued;                     /* drafts in the queue */
    size_t queued_bytes;               /* their key, metadata and value bytes */
    int64_t catchup_tokens;            /* bytes of catch-up replies that may go now */
    int64_t catchup_refill_us;         /* when the tokens were last topped up (monotonic) */
    commit_t *inflight;                /* units of the group being committed */
    size_t last_group;                 /* concurrency seen at the last commit (0 when < 2) */
    int64_t last_commit_us;            /* how long the last group took to commit */
    int64_t group_started_us;          /* when the group in flight was handed over */
    ekv_fine_timer_t *linger;          /* set while the next group gathers: ends the wait */
    struct ekv_committer *committer;   /* the commit thread */
    ekv_ns_t *ns;                      /* namespaces, sorted by id */
    size_t nns;
    int ns_jobs;           /* namespace deletions under way */
    int64_t api_window_us; /* start of the API rate limit's 5-minute window */
    int api_requests;      /* requests counted in it */
    int stopping;          /* shutting down: deletions stop after their step */
    coord_stats_t st;
};

/* The priority of background work (commit groups, digest steps): it runs after every ready
 * socket and HTTP event, so a long job never starves them. */
#define COORD_PRIO_BACKGROUND 2

/* Now, in the epoch seconds that expirations are compared with. */
int64_t coord_now_s(const ekv_coord_t *c);
/* A resolved expiration as the real moment it falls at the world's time scale (ekv_kv.h). */
int64_t coord_expiration(const ekv_coord_t *c, int64_t expiration);
/* Reads the live version of (ns, key) into *m (ekv_msg_fini it): EKV_ENOTFOUND when absent or
 * expired (expiration always wins), EKV_ESTORE on an engine error. as_of (may be NULL) as in
 * ekv_store_get_at. Counts a read. */
int coord_read(ekv_coord_t *c, ekv_bytes_t ns, ekv_bytes_t key, ekv_msg_t *m, uint64_t *as_of);

/* The last change offered to PUB, and the published changes and bytes (NULL: not wanted). */
uint64_t coord_published(ekv_coord_t *c, uint64_t *changes, uint64_t *bytes);
/* Queues a unit for the next group commit. */
void coord_submit(ekv_coord_t *c, commit_t *cm);
/* 1 when the commit queue is full (cfg.max_queued drafts, COORD_MAX_QUEUED by default, or
 * COORD_MAX_QUEUED_BYTES):
 * writers are then answered 503 "Coordinator busy" rather than queued. Internal work (the
 * sweeper, namespace deletion) is not refused. */
int coord_busy(const ekv_coord_t *c);
#define COORD_MAX_QUEUED       100000
#define COORD_MAX_QUEUED_BYTES (512u << 20)
#define COORD_BUSY_MESSAGE     "Coordinator busy"
/* 1 when a write to (ns, key) is allowed now by the rate limit. */
int coord_rate_allow(ekv_coord_t *c, ekv_bytes_t ns, ekv_bytes_t key);

/* Namespaces (kept in memory and in the store). */
const ekv_ns_t *coord_ns_find(const ekv_coord_t *c, const char *id, size_t len);
int coord_ns_create(ekv_coord_t *c, const char *title, ekv_ns_t *out, ekv_kv_error_t *err);
int coord_ns_rename(ekv_coord_t *c, const char *id, const char *title, ekv_kv_error_t *err);
/* Deletes namespace id and every key in it (published as changes), in steps between other
 * work: it leaves the table at once (finds, lists and writes no longer see it), and
 * done(c, arg, rc) runs on the loop when every key is gone and the record removed (rc
 * EKV_OK) or a step failed (rc EKV_ESTORE; the record stays marked, and the next start of
 * the coordinator resumes). Returns EKV_ENOTFOUND or EKV_ESTORE, with err filled, when the
 * deletion cannot start (done is then never called). A deleted default namespace is
 * created again, empty. */
typedef void (*coord_ns_deleted_fn)(ekv_coord_t *c, void *arg, int rc);
int coord_ns_delete(ekv_coord_t *c, const char *id, coord_ns_deleted_fn done, void *arg,
                    ekv_kv_error_t *err);
/* Creates the default namespace if it is missing; EKV_ESTORE with a message otherwise. */
int coord_ns_ensure_default(ekv_coord_t *c, char *errbuf, size_t errlen);
/* Loads the table from the store at start (and creates the default namespace); EKV_ESTORE
 * with a message when that fails. */
int coord_ns_load(ekv_coord_t *c, char *errbuf, size_t errlen);
/* Starts again the deletions that a stopped run left marked; once the loop is set up. */
void coord_ns_resume(ekv_coord_t *c);

/* rest.c */
int coord_rest_open(ekv_coord_t *c, char *errbuf, size_t errlen);

#endif
