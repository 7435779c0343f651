/* committer: runs the coordinator's group commits on a thread of their own.
 *
 * The loop thread gathers writes; when the committer is idle it hands over everything
 * gathered as one group, and goes on serving sockets and HTTP while the group is encoded,
 * written and fsynced. Whatever arrives meanwhile forms the next group, so with many
 * concurrent writers each fsync carries many writes and durable throughput grows with
 * concurrency. The moment a group is durable the commit thread itself publishes it (the
 * publish callback), so the fan-out does not wait for the loop to wake up; the completion
 * callback then runs on the loop thread (signalled through a pipe), so replying never races
 * the loop.
 *
 * Ownership: the committer borrows the store and the event base. A group's array of drafts
 * belongs to the caller and must stay untouched until its completion callback runs. */
#ifndef EKV_COMMITTER_H
#define EKV_COMMITTER_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

struct event_base;
typedef struct ekv_committer ekv_committer_t;

/* Called on the loop thread when a group is done: rc EKV_OK (drafts have seq and time_us,
 * bodies[i]/lens[i] hold their encodings, malloc'd, for the callee to free) or an error
 * (nothing stored; bodies not set). commit_us is when the batch became durable. */
typedef void (*ekv_committer_done_fn)(void *arg, ekv_msg_t *drafts, size_t n, char **bodies,
                                      size_t *lens, int rc, int64_t commit_us);
/* Called on the commit thread when a group is durable (rc EKV_OK only), before the loop is
 * told: the same drafts and bodies, read-only but for the bodies' bytes. commit_us is the
 * time the group became durable. Must be thread-safe against the loop. */
typedef void (*ekv_committer_publish_fn)(void *arg, const ekv_msg_t *drafts, size_t n,
                                         char **bodies, const size_t *lens, int64_t commit_us);

/* The group-commit wait rule (pure). With many writers each waiting for its acknowledgement,
 * the writers of the group just committed send their next writes a few microseconds after
 * the acks; starting the next fsync at once would leave them out and split the writers into
 * two cohorts that alternate, halving the writes per fsync. So when the last group showed
 * concurrency (last_group >= 2: the writers seen then) and fewer drafts than that have
 * gathered (and fewer than max_batch), the next group waits: for half the last commit's
 * duration, capped at EKV_COMMIT_LINGER_MAX_US and at least 1 us. Returns that wait in
 * microseconds, or 0 to commit what has gathered now. A single writer never waits. */
#define EKV_COMMIT_LINGER_MAX_US 2000
int64_t ekv_commit_linger_us(size_t queued, size_t last_group, size_t max_batch,
                             int64_t last_commit_us);

ekv_committer_t *ekv_committer_new(struct event_base *base, ekv_store_t *store,
                                   ekv_committer_publish_fn publish, ekv_committer_done_fn done,
                                   void *arg);
/* Waits for the group in flight, then stops the thread. */
void ekv_committer_destroy(ekv_committer_t **self_p);

/* Confines the commit thread to cpu; 0 or an errno value. */
int ekv_committer_pin(ekv_committer_t *self, int cpu);

/* 1 while a group is in flight. */
int ekv_committer_busy(const ekv_committer_t *self);
/* Starts committing n drafts. EKV_EAGAIN (and nothing happens) while a group is in flight. */
int ekv_committer_start(ekv_committer_t *self, ekv_msg_t *drafts, size_t n);
/* Blocks until the group in flight (if any) is done and its callback has run. */
void ekv_committer_wait(ekv_committer_t *self);

#endif
