/* link: one direction of a PoP's simulated WAN link to the coordinator (logic only).
 *
 * Each message handed to the link gets a transit time drawn from the link model: the one-way
 * delay, plus jitter (none; uniform on [0, J]; normal with deviation J, the total clamped at
 * 0; or pareto: J * (U^(-1/shape) - 1), a heavy tail with minimum 0), plus one retransmission
 * timeout for every time the message is lost (each transmission lost with probability
 * `loss`, as TCP would resend it). It is delivered at send time + transit, but never before it
 * was handed over (a late message is delivered at once) and never before the message handed
 * over before it: delivery is FIFO, as on a TCP connection, so a slow message holds back the
 * ones behind it. A send time later than the hand-over (a stamp from a clock ahead of ours,
 * or a garbled one) counts as the hand-over: one bad stamp never holds the link for longer
 * than one transit. The random draws come from a seeded generator, so a run repeats exactly.
 * The link holds the messages in a ring in delivery order; the caller arms one timer for
 * ekv_link_next_due() and pops what is due when it fires.
 *
 * Ownership: items are opaque pointers owned by the caller; ekv_link_destroy() does not free
 * them (pop them first). */
#ifndef EKV_LINK_H
#define EKV_LINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ekv_link ekv_link_t;

typedef enum {
    EKV_JITTER_NONE = 0,
    EKV_JITTER_UNIFORM, /* extra delay uniform on [0, jitter_us] */
    EKV_JITTER_NORMAL,  /* delay + N(0, jitter_us), clamped at 0 */
    EKV_JITTER_PARETO,  /* extra delay jitter_us * (U^(-1/shape) - 1) */
} ekv_jitter_t;

typedef struct {
    int64_t delay_us;    /* base one-way delay */
    ekv_jitter_t jitter; /* jitter distribution */
    int64_t jitter_us;   /* its scale */
    double shape;        /* pareto shape (> 1 for a finite mean) */
    double loss;         /* probability a transmission is lost, 0..0.9 */
    int64_t rto_us;      /* retransmission timeout paid per loss */
} ekv_link_model_t;

/* Parses "none", "uniform:MS", "normal:MS" or "pareto:MS:SHAPE" into the model's jitter
 * fields (milliseconds); EKV_EINVAL when malformed. */
int ekv_link_parse_jitter(const char *s, ekv_link_model_t *m);

/* A link with a constant delay (no jitter, no loss). */
ekv_link_t *ekv_link_new(int64_t delay_us);
/* Replaces the model and reseeds the generator. */
void ekv_link_set_model(ekv_link_t *self, const ekv_link_model_t *model, uint64_t seed);
const ekv_link_model_t *ekv_link_model(const ekv_link_t *self);
/* One transit time drawn from the model (advances the generator). */
int64_t ekv_link_sample_us(ekv_link_t *self);
void ekv_link_destroy(ekv_link_t **self_p);

int64_t ekv_link_delay_us(const ekv_link_t *self);
void ekv_link_set_delay_us(ekv_link_t *self, int64_t delay_us);

/* Queues item, sent at sent_us and handed over at now_us; returns its delivery time. */
int64_t ekv_link_push(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item);

/* Queues an item that travels at the base delay with no jitter or loss (heartbeats: they
 * must stay in order but must not draw their own delays, or a slow heartbeat would hold back
 * the changes behind it). It can never delay a later message. Returns its delivery time. */
int64_t ekv_link_push_plain(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item);

/* When the head is due at now_us, pops it into *item and returns 1; else returns 0. */
int ekv_link_pop(ekv_link_t *self, int64_t now_us, void **item);

/* Delivery time of the head; INT64_MAX when empty. */
int64_t ekv_link_next_due(const ekv_link_t *self);

/* Messages in flight. */
size_t ekv_link_pending(const ekv_link_t *self);

#endif
