/* ekv_zev: a ZeroMQ socket driven by a libevent loop.
 *
 * ZMQ_FD is edge-triggered and any zmq call on the socket may consume its edge, so the rule
 * is: when the fd fires, read ZMQ_EVENTS and receive with ZMQ_DONTWAIT until EAGAIN; after
 * sending on the socket from elsewhere, call ekv_zev_kick() so pending input is not missed.
 * The watcher calls on_readable repeatedly while ZMQ_EVENTS shows POLLIN, at most `budget`
 * times per loop turn so one busy socket cannot starve timers and HTTP; past the budget it
 * reschedules itself. It drains once right after creation.
 *
 * Ownership: the watcher borrows the socket and the base; destroy it before closing either. */
#ifndef EKV_ZEV_H
#define EKV_ZEV_H

#include <stddef.h>
#include <zmq.h>

struct event_base;
typedef struct ekv_zev ekv_zev_t;

/* Called with one message to receive; it receives one multipart message (or returns when
 * ekv_zev_recv says EKV_EAGAIN). */
typedef void (*ekv_zev_fn)(void *sock, void *arg);

/* Watches sock: on_readable runs once per waiting message, at most budget times per loop
 * turn (the rest after one more turn). NULL if ZMQ_FD or a timerfd cannot be had. */
ekv_zev_t *ekv_zev_new(struct event_base *base, void *sock, int budget, ekv_zev_fn on_readable,
                       void *arg);
void ekv_zev_destroy(ekv_zev_t **self_p);
/* Schedules a check of the socket on the next loop turn (call after sending on it). */
void ekv_zev_kick(ekv_zev_t *self);

/* Receives one whole multipart message without blocking into parts[0..max) (initialized
 * here; the caller closes *nparts of them). Extra parts beyond max are received and dropped,
 * and *truncated set. Returns EKV_OK, EKV_EAGAIN when nothing is waiting, or EKV_EIO. */
int ekv_zev_recv(void *sock, zmq_msg_t *parts, int max, int *nparts, int *truncated);

/* Receives one request on a ROUTER: exactly [peer identity][body]. EKV_OK with both frames in
 * parts (close them); EKV_EMALFORMED for any other shape (the frames are closed already,
 * nothing to do); EKV_EAGAIN or EKV_EIO as ekv_zev_recv. */
int ekv_zev_recv_routed(void *sock, zmq_msg_t parts[2]);

/* Sends the given frames as one multipart message without blocking. Returns EKV_OK, or
 * EKV_EAGAIN when the socket would block (the message is dropped, as a PUB at its
 * high-water mark drops), or EKV_EIO. */
int ekv_zev_send(void *sock, const void *const *frames, const size_t *lens, int n);

#endif
