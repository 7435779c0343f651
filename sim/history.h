/* history: what every client of an experiment did and saw, operation by operation, for the
 * consistency checkers (checkers.h). The load generator records one entry per operation it
 * issued; a read-modify-write (get, change, put) is two entries sharing an rmw id. Logic
 * only: no I/O.
 *
 * Times are microseconds of one clock (the load generator's CLOCK_REALTIME, the clock commit
 * times are stamped with); versions are the coordinator's sequence numbers, which order the
 * writes of a key. */
#ifndef EKV_HISTORY_H
#define EKV_HISTORY_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
    EKV_HOP_GET,    /* a read of one key (get, getWithMetadata, any type) */
    EKV_HOP_PUT,    /* a write of one key */
    EKV_HOP_DELETE, /* a delete of one key */
    EKV_HOP_LIST,   /* a list (key unused) */
} ekv_hop_t;

typedef struct {
    uint32_t client;   /* client number (a client has a home PoP and may be re-routed) */
    uint16_t pop;      /* the PoP the operation went through */
    uint8_t op;        /* ekv_hop_t */
    uint8_t counter;   /* 1: the key is a counter (values are integers; puts add one) */
    uint32_t key;      /* key number, over every key group of the run */
    int status;        /* HTTP status; 0 = no answer (timed out, refused connection) */
    int64_t start_us;  /* when it was sent */
    int64_t end_us;    /* when its answer arrived */
    uint64_t seq;      /* get: version served, 0 = not found; put/delete: version committed
                        * (X-Edgekv-Version), 0 when not acknowledged */
    int64_t commit_us; /* put/delete acknowledged: its commit time (X-Edgekv-Commit-Us) */
    int64_t value;     /* counters: the integer read (get) or written (put) */
    uint32_t rmw;      /* read-modify-write id shared by its get and put; 0 = none */
} ekv_hist_op_t;

typedef struct {
    ekv_hist_op_t *ops; /* in any order; checkers sort copies, never this array */
    size_t n;
} ekv_history_t;

#endif
