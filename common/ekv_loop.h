/* ekv_loop: the event loop of a daemon, set up the way every edgekv process needs it:
 * batched epoll changes, the given number of priorities, SIGPIPE ignored, and SIGINT and
 * SIGTERM ending the loop so main can tear down in reverse order. Timers are precise to the
 * microsecond when asked (libevent then arms a timerfd on every loop turn, a system call
 * per turn), else to the millisecond (epoll_wait's timeout). A PoP asks not: its only timer
 * that needs better than a millisecond, the link's delay line, has a timerfd of its own. */
#ifndef EKV_LOOP_H
#define EKV_LOOP_H

struct event_base;
typedef struct ekv_loop ekv_loop_t;

/* A new loop; npriorities 0 keeps libevent's default of one; precise_timers 1 for
 * microsecond timers. */
ekv_loop_t *ekv_loop_new(int npriorities, int precise_timers);
/* The libevent base, borrowed until ekv_loop_destroy(). */
struct event_base *ekv_loop_base(const ekv_loop_t *self);
/* Runs until a signal stops it. */
void ekv_loop_run(ekv_loop_t *self);
void ekv_loop_destroy(ekv_loop_t **self_p);

#endif
