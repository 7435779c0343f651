/* coord: the coordinator daemon's core, one libevent loop serving the ZeroMQ sockets.
 *
 * ROUTER receives WRITE, READ, HELLO and CATCHUP from nodes; HTTP serves the Cloudflare REST
 * API (rest.c). Writes from both that arrive together (everything received before the loop
 * goes idle, up to max_batch) are validated, rate-limited per key, then committed as one
 * synced write batch (group commit); only then is each writer answered and each change
 * published on PUB under its namespace topic, stamped with the moment the batch became
 * durable. Node reads queued with them are answered after the commit. Timers publish
 * heartbeats carrying the latest sequence (so nodes notice silent gaps), sweep expired keys
 * (each deletion a published change) and trim the change log by count and age. Catch-up
 * streams the log from a sequence; a node older than the log gets a paged snapshot of every
 * current record, then the log tail.
 *
 * Ownership: coord owns the store, the ZeroMQ context and sockets, and its events; it
 * borrows the event base, which main creates and frees after ekv_coord_destroy(). */
#ifndef EKV_COORD_H
#define EKV_COORD_H

#include <stdint.h>

#include "store.h"

struct event_base;
struct ekv_sec;
typedef struct ekv_coord ekv_coord_t;

typedef struct {
    const char *data_dir;        /* RocksDB folder */
    const char *pub_endpoint;    /* e.g. tcp://127.0.0.1:8781 or tcp://127.0.0.1:* */
    const char *router_endpoint; /* e.g. tcp://127.0.0.1:8782 */
    const char *http_host;       /* HTTP listen address; NULL for no HTTP */
    int http_port;               /* 0 = ephemeral */
    ekv_store_durability_t durability;
    int heartbeat_ms;            /* heartbeat period */
    int max_batch;               /* most writes in one commit group */
    int pub_hwm;                 /* PUB send high-water mark, messages per subscriber */
    int64_t rate_limit_us;       /* same-key write interval; 0 = no limit (default 1 s) */
    uint64_t log_keep;           /* change-log entries kept at least... at most this many */
    int64_t log_max_age_s;       /* ...and none older than this (0 = no age limit) */
    int sweep_ms;                /* expiry sweep and log trim period */
    const char *api_token;       /* when set, REST requests need "Bearer <token>" */
    const char *account_id;      /* account reported by /memberships */
    int commit_cpu;              /* the loop's and commit thread's CPU, or one of: */
    size_t max_queued;           /* writes waiting for a commit at most; then 503 "busy" */
    int64_t catchup_bytes_per_s; /* pace of catch-up replies; beyond it: BUSY */
    int api_rate_limit; /* REST API requests per 5 minutes (the account's limit); 0 = off */
    double time_scale;  /* simulated durations run this many times faster: expirations */
    int pub_rate_kbps;  /* epgm PUB: PGM rate limit; it also sizes the repair window */
    int pub_recov_ms;   /* epgm PUB: how long sent data stays repairable */
    /* CURVE keys and token (borrowed); NULL or keyless: plain sockets, open HTTP */
    const struct ekv_sec *sec;
} ekv_coord_config_t;

#define EKV_COMMIT_CPU_AUTO (-2) /* with fsync: the CPU completing the data disk's I/O */
#define EKV_COMMIT_CPU_NONE (-1) /* unpinned */

/* Fills cfg with the defaults. */
void ekv_coord_config_defaults(ekv_coord_config_t *cfg);

/* Opens the store, binds the sockets and the HTTP listener. NULL with a message in errbuf on
 * failure. */
ekv_coord_t *ekv_coord_new(struct event_base *base, const ekv_coord_config_t *cfg, char *errbuf,
                           size_t errlen);
void ekv_coord_destroy(ekv_coord_t **self_p);

/* Writes {"pid", "http", "pub", "router", "seq"} as JSON to path (atomically). */
int ekv_coord_write_ready(const ekv_coord_t *self, const char *path);

#endif
