/* ui_int: what ui.c (the HTTP server, the page's API and its SSE streams) and ui_poll.c (the
 * poller of the PoPs and tiers) share. One event base, one thread: no locks.
 *
 * Ownership: the ui_t owns its nodes, their connections and the SSE clients; the state and
 * topology it was started from are borrowed for its whole life. */
#ifndef EKV_UI_INT_H
#define EKV_UI_INT_H

#include <event2/event.h>
#include <event2/http.h>
#include <stdint.h>

#include "hclient.h"
#include "state.h"
#include "topology.h"

#define UI_MAX_CLIENTS 64
#define UI_KEY_MAX     512

typedef struct ui ui_t;

typedef struct {
    ui_t *ui;
    ekv_proc_t *proc; /* in ui->st (restarts update its pid there) */
    int tier;         /* 1: a regional tier */
    int id;           /* index in ui->nodes, the page's name for it */
    double lat, lon;
    char via[64];                    /* PoPs: the tier it reads through, "" for the coordinator */
    struct evhttp_connection *conn;  /* look and stats, one at a time (keep-alive) */
    struct evhttp_connection *wconn; /* the long-polled /_edgekv/wait of the current write */
    int busy;                        /* requests in flight on conn */
    int waiting;                     /* a wait in flight on wconn */
    int64_t next_look, next_stats;   /* monotonic us when they are due */
    /* what a read of the watched key would get here (/_edgekv/look) */
    char state[8];      /* fresh | stale | absent | "" (not answered) */
    long long seq;      /* version of the copy, 0 when none */
    int negative;       /* the copy is a cached "not found" */
    int fetching;       /* an origin read of the key is in flight there */
    int64_t commit_us;  /* the copy's commit, CLOCK_REALTIME us; 0 when none */
    int64_t expires_us; /* when its cacheTtl runs out, CLOCK_REALTIME us; 0: never */
    int answered;       /* the last request got an answer */
    char fault[32];     /* what the page did to it: stopped, killed, partitioned, slow N ms */
    /* the current write (ui->wave_seq) here, CLOCK_REALTIME us, 0 = not yet */
    int64_t arrived_us, serving_us;
    /* counters: the last /stats and the rates since the one before */
    uint64_t reads, hits, stale, unavailable;
    uint64_t rate_limited; /* its 429s (rate_limited), as last read */
    int64_t stats_at;      /* monotonic us of the last /stats, 0 = none */
    double rps, hit_ratio, stale_ps, unavail_ps;
    int dirty; /* changed since the last SSE message */
} ui_node_t;

struct ui {
    struct event_base *base;
    struct evhttp *http;
    ekv_state_t *st;
    ekv_topo_t *topo;
    ui_node_t *nodes; /* PoPs first, then tiers */
    size_t n;
    char key[UI_KEY_MAX + 1];                       /* the watched key, "" for none */
    char dir[1024];                                 /* the page's files */
    struct evhttp_request *clients[UI_MAX_CLIENTS]; /* SSE streams */
    size_t nclients;
    int64_t pinged_us;          /* monotonic us of the last keep-alive comment */
    struct event *tick, *flush; /* poll timer, SSE timer */
    struct event *soon;         /* a flush 5 ms after an arrival, not at the next tick */
    int64_t period_us;          /* idle look and stats period per node */
    /* the write the page follows: the last one made here or seen at the detector node */
    long long wave_seq;
    int64_t wave_commit_us, wave_started_us;
    char wave_from[64];
    int wave_watched; /* the write is of the watched key: key_seq == wave_seq */
    int wave_other;   /* the coordinator, asked after the write, holds the watched key at an
                       * older version (or none, having had none): the write was another key's */
    /* The watched key's newest version at the coordinator, 0 for none or not known yet: the
     * page's "newest" (sequences are global: another key's write is never comparable). Set by
     * the page's own writes, else asked of the coordinator (a REST read) when the key changes
     * or a write made elsewhere is seen, while a page is open; one read at a time. */
    long long key_seq;
    struct evhttp_connection *cconn; /* the coordinator's, for those reads (keep-alive) */
    int key_asking;                  /* a read in flight */
    int key_again;                   /* asked again meanwhile: once more when it answers */
    int key_stale;                   /* asked while no page was open: asked when one comes */
    unsigned key_gen;                /* bumped when key_seq is set otherwise: older answers go */
    unsigned key_asked_gen;          /* key_gen when the read in flight was sent */
    long long key_asked_wave;        /* wave_seq then */
    long long known_seq; /* highest sequence seen, -1 before the first; the detector waits for
                          * the next */
    struct evhttp_connection *dconn; /* the detector's wait */
    size_t dnode;                    /* which node it asks */
    int detecting;                   /* a wait in flight on dconn */
    int dconn_drop;                  /* the detector moved on: dconn is freed before its next ask */
    int64_t detect_retry;            /* monotonic us before which the detector does not ask again */
    int world_dirty;                 /* key, wave or faults changed: send the header again */
    uint64_t writes, writes_429;     /* writes made from the page, and those answered 429 */
    uint64_t rate_limited;           /* 429s answered by every PoP and tier, summed */
    /* A secure world's token (keys.json), NULL without keys: the page requires it (bearer or
     * the cookie ?token= sets), and every request to a node or the coordinator carries it. */
    const char *token;
    char auth[EKV_HC_AUTH_MAX]; /* "Bearer TOKEN", "" without keys */
};

/* Adds the token's Authorization header to a request to the world (none without keys). */
void ui_add_auth(const ui_t *ui, struct evhttp_request *req);

/* ui_poll.c */
void ui_poll_start(ui_t *ui);
void ui_poll_stop(ui_t *ui);
/* Follows write seq (committed at commit_us, through `from`; watched: the page's own write of
 * the watched key, so its version is key_seq): every node is asked when it arrives and looked
 * at until it serves it. A write made elsewhere may be of any key: the coordinator is asked. */
void ui_poll_wave(ui_t *ui, long long seq, int64_t commit_us, const char *from, int watched);
/* The watched key changed (key_seq is unknown until the coordinator answers): asks it. */
void ui_poll_key_changed(ui_t *ui);
/* Looks at node i now (after a fault, a new key). */
void ui_poll_look_now(ui_t *ui, size_t i);
/* Drops node i's connections (after a restart: a new process on the same address). */
void ui_poll_reset(ui_node_t *nd);

/* ui.c */
/* Sends the changed nodes to every SSE client (the flush timer calls it too). */
void ui_flush(ui_t *ui);
/* Flushes in 5 ms (news the page should have at once, batched with what comes with it). */
void ui_flush_soon(ui_t *ui);

#endif
