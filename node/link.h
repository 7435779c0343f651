/* link: one direction of a PoP's simulated WAN link to the coordinator (logic only).
 *
 * Each message handed to the link is delivered at its send time plus the one-way delay, but
 * never before it was handed over (a late message is delivered at once) and never before the
 * message handed over before it: delivery is FIFO, as on a TCP connection. The link holds the
 * messages in a ring in delivery order; the caller arms one timer for ekv_link_next_due() and
 * pops what is due when it fires.
 *
 * Ownership: items are opaque pointers owned by the caller; ekv_link_destroy() does not free
 * them (pop them first). */
#ifndef EKV_LINK_H
#define EKV_LINK_H

#include <stddef.h>
#include <stdint.h>

typedef struct ekv_link ekv_link_t;

ekv_link_t *ekv_link_new(int64_t delay_us);
void ekv_link_destroy(ekv_link_t **self_p);

int64_t ekv_link_delay_us(const ekv_link_t *self);
void ekv_link_set_delay_us(ekv_link_t *self, int64_t delay_us);

/* Queues item, sent at sent_us and handed over at now_us; returns its delivery time. */
int64_t ekv_link_push(ekv_link_t *self, int64_t sent_us, int64_t now_us, void *item);

/* When the head is due at now_us, pops it into *item and returns 1; else returns 0. */
int ekv_link_pop(ekv_link_t *self, int64_t now_us, void **item);

/* Delivery time of the head; INT64_MAX when empty. */
int64_t ekv_link_next_due(const ekv_link_t *self);

/* Messages in flight. */
size_t ekv_link_pending(const ekv_link_t *self);

#endif
