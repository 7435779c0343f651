/* coord: the coordinator daemon's core, one libevent loop serving the ZeroMQ sockets.
 *
 * ROUTER receives WRITE, READ, HELLO and CATCHUP from nodes. Writes that arrive together
 * (everything received before the loop goes idle, up to max_batch) are validated, then
 * committed as one synced write batch (group commit); only then is each writer answered and
 * each change published on PUB under its namespace topic, stamped with the moment the batch
 * became durable. Reads queued with them are answered after the commit, so a node never
 * reads older than what it was told is committed. A timer publishes heartbeats carrying the
 * latest sequence so nodes notice silent gaps. An HTTP listener serves /health.
 *
 * Ownership: coord owns the store, the ZeroMQ context and sockets, and its events; it
 * borrows the event base, which main creates and frees after ekv_coord_destroy(). */
#ifndef EKV_COORD_H
#define EKV_COORD_H

#include <stdint.h>

#include "store.h"

struct event_base;
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
} ekv_coord_config_t;

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
