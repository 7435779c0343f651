/* replica: where a PoP stands in the coordinator's change stream (logic only: no I/O, time
 * passed in).
 *
 * The coordinator numbers every committed change (seq, gap-free) and publishes it; a PoP may
 * miss some (a slow subscriber, a partition, a restart of either side). The tracker keeps:
 *   applied    the highest sequence such that every change up to it has been applied;
 *   max        the highest sequence applied at all (max > applied: a gap is open);
 *   announced  the tip the last heartbeat announced (announced > max: a silent gap);
 *   epoch      the identity of the coordinator's store, from hello; a heartbeat with another
 *              epoch means the sequence restarted (a wiped store, a crash without durable
 *              commits), and everything the PoP holds must be dropped (EKV_REPLICA_RESYNC);
 *   one catch-up request at a time, with its state: a log run after `applied`, or a
 *   snapshot in pages (cursor, and the base sequence the snapshot reflects).
 * The caller applies changes to its cache; the tracker decides which to apply and when to
 * ask for a catch-up, and says so through EKV_REPLICA_* results.
 *
 * Snapshots and deletions: a snapshot holds only the records that exist. A cached key that
 * was deleted while the PoP was behind is simply absent from it, so the tracker remembers
 * the keys the snapshot did carry (ekv_replica_snapshot_saw) and, once the last page is in,
 * the caller drops every cached entry at or below the base that the snapshot did not carry
 * (ekv_replica_snapshot_carried answers the question).
 *
 * Lost or refused catch-ups: a catch-up whose reply never comes (ekv_replica_catchup_lost,
 * at the request's deadline) or that the coordinator refused as busy
 * (ekv_replica_catchup_busy) is asked again: at once when lost, after a pause when busy
 * (ekv_replica_due tells when).
 *
 * A silent subscription: changes and heartbeats come on one socket (the SUB), replies on
 * another (the DEALER). A SUB can go quiet for good while the coordinator is alive (libzmq
 * 4.3.4's PGM receiver, after a loss it could not repair, has been seen to); the tracker
 * notes when each socket last delivered something valid (ekv_replica_sub_heard,
 * ekv_replica_origin_heard) and, once the SUB has been silent for a whole `silence` period,
 * asks the caller to probe the coordinator over the DEALER (EKV_REPLICA_PROBE: a hello,
 * again every period while unanswered). When the coordinator answers while the SUB is still
 * silent, the subscription is at fault, not the coordinator: EKV_REPLICA_REOPEN asks the
 * caller to close and reopen it; the next heartbeat on it shows what was missed, and catch-up
 * fetches it. A coordinator that answers nothing is down, and nothing is reopened. */
#ifndef EKV_REPLICA_H
#define EKV_REPLICA_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_msg.h"

typedef struct ekv_replica ekv_replica_t;

/* What the caller must do next (bits; 0 = nothing). */
#define EKV_REPLICA_CATCHUP 0x1 /* send the request ekv_replica_catchup_request fills */
#define EKV_REPLICA_RESYNC  0x2 /* the store changed: drop the cache, reset, say hello again */
#define EKV_REPLICA_PROBE   0x4 /* the subscription is silent: ask the coordinator (a hello) */
#define EKV_REPLICA_REOPEN                                                                         \
    0x8 /* the coordinator answers but the subscription is silent:                                 \
           close and reopen it */

/* How long a busy coordinator is given before a catch-up is asked again. */
#define EKV_REPLICA_BUSY_PAUSE_US 200000

typedef struct {
    uint64_t gaps;      /* gaps found (out-of-order changes, silent gaps from heartbeats) */
    uint64_t catchups;  /* catch-up requests made */
    uint64_t ignored;   /* changes dropped: before hello, or already applied */
    uint64_t lost;      /* catch-up requests that got no reply in time */
    uint64_t busy;      /* catch-up requests refused as busy */
    uint64_t resyncs;   /* epoch changes seen */
    uint64_t snapshots; /* snapshots completed */
    uint64_t probes;    /* hellos sent because the subscription was silent */
    uint64_t reopens;   /* subscriptions reopened */
} ekv_replica_stats_t;

/* A tracker with nothing applied, waiting for hello. full: the PoP is a full replica
 * (push-all), which starts from a snapshot rather than from the tip. */
ekv_replica_t *ekv_replica_new(int full);
void ekv_replica_destroy(ekv_replica_t **self_p);

/* Forgets everything (after a resync): back to waiting for hello. */
void ekv_replica_reset(ekv_replica_t *self);

/* The hello reply: the coordinator's tip and epoch. An empty PoP starts at the tip, or asks
 * for a snapshot when it is a full replica. Returns EKV_REPLICA_* bits. */
int ekv_replica_hello(ekv_replica_t *self, uint64_t tip, uint64_t epoch);

/* 1 once hello was answered. */
int ekv_replica_ready(const ekv_replica_t *self);

/* A heartbeat announcing tip under epoch. Returns EKV_REPLICA_RESYNC when the epoch differs
 * from hello's, EKV_REPLICA_CATCHUP when the tip shows changes that never arrived. */
int ekv_replica_heartbeat(ekv_replica_t *self, uint64_t tip, uint64_t epoch);

/* A published change with sequence seq arrived. *apply is set to 1 when the caller must
 * apply it (0: before hello or already applied). Returns EKV_REPLICA_CATCHUP when it shows
 * a gap. */
int ekv_replica_change(ekv_replica_t *self, uint64_t seq, int *apply);

/* Fills the catch-up request to send (*from: the last contiguous sequence; *cursor: the
 * snapshot page to continue, empty otherwise; borrowed until the next call) and marks it in
 * flight. Returns EKV_EAGAIN (and fills nothing) when one is in flight already. */
int ekv_replica_catchup_request(ekv_replica_t *self, uint64_t *from, ekv_bytes_t *cursor);

/* 1 while a catch-up request is in flight. */
int ekv_replica_catchup_inflight(const ekv_replica_t *self);

/* A log run arrived (not a snapshot). For each of its changes in order, call
 * ekv_replica_log_entry, which says whether to apply it; then ekv_replica_log_done with the
 * reply's MORE flag, which returns EKV_REPLICA_CATCHUP when more must be fetched at once (a
 * reply that left a gap open without closing any of it is asked again after a pause). */
int ekv_replica_log_entry(ekv_replica_t *self, uint64_t seq);
int ekv_replica_log_done(ekv_replica_t *self, int more, int64_t now_us);

/* A snapshot page arrived: base is the sequence it reflects (the reply's latest_seq),
 * cursor where the next page starts, more its MORE flag. Call ekv_replica_snapshot_saw for
 * each record applied from it first. Returns EKV_REPLICA_CATCHUP (the next page, or the log
 * after the base); *finished is set to 1 on the last page, when the caller reconciles its
 * cache (entries at or below ekv_replica_snapshot_base that were not carried are gone) and
 * then calls ekv_replica_snapshot_clear. */
void ekv_replica_snapshot_saw(ekv_replica_t *self, ekv_bytes_t ns, ekv_bytes_t key);
int ekv_replica_snapshot_page(ekv_replica_t *self, uint64_t base, ekv_bytes_t cursor, int more,
                              int *finished);
/* After the last page: the base, and whether (ns, key) was in the snapshot. */
uint64_t ekv_replica_snapshot_base(const ekv_replica_t *self);
int ekv_replica_snapshot_carried(const ekv_replica_t *self, ekv_bytes_t ns, ekv_bytes_t key);
void ekv_replica_snapshot_clear(ekv_replica_t *self);

/* The catch-up in flight got no reply by its deadline. Returns EKV_REPLICA_CATCHUP: ask
 * again (from where the PoP stands). */
int ekv_replica_catchup_lost(ekv_replica_t *self);
/* The coordinator answered busy at now_us: ask again at now_us + EKV_REPLICA_BUSY_PAUSE_US. */
void ekv_replica_catchup_busy(ekv_replica_t *self, int64_t now_us);
/* When a paused catch-up is due (INT64_MAX: none), and whether it is due at now_us (then
 * returns EKV_REPLICA_CATCHUP and clears the pause). */
int64_t ekv_replica_next_due(const ekv_replica_t *self);
int ekv_replica_due(ekv_replica_t *self, int64_t now_us);

/* Something valid arrived at now_us on the subscription, or on the request socket. */
void ekv_replica_sub_heard(ekv_replica_t *self, int64_t now_us);
void ekv_replica_origin_heard(ekv_replica_t *self, int64_t now_us);
/* When the request socket last delivered something valid (0: never). */
int64_t ekv_replica_origin_heard_at(const ekv_replica_t *self);
/* The subscription's watch at now_us, silence_us being how long a healthy one can be quiet
 * (three heartbeat periods): EKV_REPLICA_PROBE, EKV_REPLICA_REOPEN or 0. Only once hello was
 * answered. ekv_replica_watch_due: when to call it next (INT64_MAX: no need). */
int ekv_replica_watch(ekv_replica_t *self, int64_t now_us, int64_t silence_us);
int64_t ekv_replica_watch_due(const ekv_replica_t *self, int64_t silence_us);

/* Positions: highest contiguous applied, highest applied, last announced tip, epoch. */
uint64_t ekv_replica_applied(const ekv_replica_t *self);
uint64_t ekv_replica_max(const ekv_replica_t *self);
uint64_t ekv_replica_announced(const ekv_replica_t *self);
uint64_t ekv_replica_epoch(const ekv_replica_t *self);
/* 1 while a snapshot is being loaded. */
int ekv_replica_in_snapshot(const ekv_replica_t *self);
void ekv_replica_stats(const ekv_replica_t *self, ekv_replica_stats_t *out);

#endif
