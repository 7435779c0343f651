/* vis: a PoP's record of when each change first became visible there (logic only: no I/O,
 * time passed in).
 *
 * Each change applied at the PoP gets one record: its sequence, its commit time and the
 * moment it became visible here. Records live in a ring of fixed capacity (newest replace
 * oldest); every record ever made has an insertion index (0, 1, 2...), so a collector can
 * poll "everything from index I on" and learn how many it missed when the ring moved past
 * I. A direct-mapped index (seq mod capacity) finds the record of a sequence in O(1): a seq
 * whose slot was taken by a newer one with the same remainder reads as absent, which at
 * worst records a change twice, never wrongly. Every record also feeds a histogram of
 * visibility delays (visible - commit). */
#ifndef EKV_VIS_H
#define EKV_VIS_H

#include <stddef.h>
#include <stdint.h>

#include "ekv_hist.h"

typedef struct {
    uint64_t seq;       /* the change */
    int64_t commit_us;  /* its commit time (coordinator clock) */
    int64_t visible_us; /* when it became visible here */
} ekv_vis_rec_t;

typedef struct ekv_vis ekv_vis_t;

/* A ring of capacity records (a power of two, at least 2). */
ekv_vis_t *ekv_vis_new(size_t capacity);
void ekv_vis_destroy(ekv_vis_t **self_p);

/* Records that seq became visible at now_us. Returns the record (borrowed until the next
 * record), or NULL when seq is recorded already (nothing changes). */
const ekv_vis_rec_t *ekv_vis_record(ekv_vis_t *self, uint64_t seq, int64_t commit_us,
                                    int64_t now_us);
/* The record of seq, or NULL when it is not (or no longer) in the ring. */
const ekv_vis_rec_t *ekv_vis_find(const ekv_vis_t *self, uint64_t seq);

/* Insertion indexes: records [oldest, next) are in the ring. */
uint64_t ekv_vis_next(const ekv_vis_t *self);
uint64_t ekv_vis_oldest(const ekv_vis_t *self);
/* The record with insertion index i (oldest <= i < next), else NULL. */
const ekv_vis_rec_t *ekv_vis_at(const ekv_vis_t *self, uint64_t i);

/* The delays (visible - commit, microseconds) of every record ever made. */
const ekv_hist_t *ekv_vis_delays(const ekv_vis_t *self);

#endif
