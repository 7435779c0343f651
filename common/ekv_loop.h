/* ekv_loop: the event loop of a daemon, set up the way every edgekv process needs it:
 * precise timers (injected link delays must be accurate to well under a millisecond),
 * batched epoll changes, the given number of priorities, SIGPIPE ignored, and SIGINT and
 * SIGTERM ending the loop so main can tear down in reverse order. */
#ifndef EKV_LOOP_H
#define EKV_LOOP_H

struct event_base;
typedef struct ekv_loop ekv_loop_t;

/* A new loop; npriorities 0 keeps libevent's default of one. */
ekv_loop_t *ekv_loop_new(int npriorities);
/* The libevent base, borrowed until ekv_loop_destroy(). */
struct event_base *ekv_loop_base(const ekv_loop_t *self);
/* Runs until a signal stops it. */
void ekv_loop_run(ekv_loop_t *self);
void ekv_loop_destroy(ekv_loop_t **self_p);

#endif
