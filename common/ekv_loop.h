/* ekv_loop: the event loop of a daemon, set up the way every edgekv process needs it:
 * batched epoll changes, the given number of priorities, SIGPIPE ignored, and SIGINT and
 * SIGTERM ending the loop so main can tear down in reverse order. The loop's timers are
 * precise to the millisecond (epoll_wait's timeout): libevent's precise timers would arm a
 * timerfd on every loop turn, a system call per turn. The few timers that need better (a
 * PoP's delay line, the coordinator's group-commit linger) are fine timers, below. */
#ifndef EKV_LOOP_H
#define EKV_LOOP_H

#include <stdint.h>

struct event_base;
typedef struct ekv_loop ekv_loop_t;

/* A new loop; npriorities 0 keeps libevent's default of one. */
ekv_loop_t *ekv_loop_new(int npriorities);
/* The libevent base, borrowed until ekv_loop_destroy(). */
struct event_base *ekv_loop_base(const ekv_loop_t *self);
/* Runs until a signal stops it. */
void ekv_loop_run(ekv_loop_t *self);
void ekv_loop_destroy(ekv_loop_t **self_p);

/* A one-shot timer precise to the microsecond on a loop without precise timers: a timerfd
 * of its own, so only setting and cancelling it cost a system call, not every loop turn. */
typedef struct ekv_fine_timer ekv_fine_timer_t;

/* A new timer on base that calls fn(arg) when it fires; NULL when no timerfd can be made. */
ekv_fine_timer_t *ekv_fine_timer_new(struct event_base *base, void (*fn)(void *arg), void *arg);
/* Fires once, wait_us from now (0 or less: on this loop turn, without a system call),
 * replacing any earlier setting. EKV_OK, or EKV_EIO if the timerfd refused it. */
int ekv_fine_timer_set(ekv_fine_timer_t *self, int64_t wait_us);
/* Stops it firing; a system call only when it is set. */
void ekv_fine_timer_cancel(ekv_fine_timer_t *self);
/* Whether it is set and has not fired yet. */
int ekv_fine_timer_pending(const ekv_fine_timer_t *self);
void ekv_fine_timer_free(ekv_fine_timer_t **self_p);

#endif
