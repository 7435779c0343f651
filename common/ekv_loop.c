/* ekv_loop: a daemon's libevent loop with signal handling (see ekv_loop.h). */
#include "ekv_loop.h"

#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

#include "ekv_log.h"
#include "ekv_mem.h"

struct ekv_loop {
    struct event_base *base;
    struct event *sigint, *sigterm;
};

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)what;
    ekv_info("signal %d: stopping", (int)sig);
    event_base_loopbreak(arg);
}

ekv_loop_t *ekv_loop_new(int npriorities, int precise_timers)
{
    signal(SIGPIPE, SIG_IGN);
    ekv_loop_t *l = ekv_calloc(1, sizeof *l);
    struct event_config *ec = event_config_new();
    if (precise_timers)
        event_config_set_flag(ec, EVENT_BASE_FLAG_PRECISE_TIMER);
    /* evhttp enables and disables a connection's events around every request: batching
     * those epoll_ctl calls per loop turn saves several syscalls per request. */
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
    l->base = event_base_new_with_config(ec);
    event_config_free(ec);
    if (npriorities > 1)
        event_base_priority_init(l->base, npriorities);
    l->sigint = evsignal_new(l->base, SIGINT, on_signal, l->base);
    l->sigterm = evsignal_new(l->base, SIGTERM, on_signal, l->base);
    event_add(l->sigint, NULL);
    event_add(l->sigterm, NULL);
    return l;
}

struct event_base *ekv_loop_base(const ekv_loop_t *self)
{
    return self->base;
}

void ekv_loop_run(ekv_loop_t *self)
{
    event_base_dispatch(self->base);
}

void ekv_loop_destroy(ekv_loop_t **self_p)
{
    ekv_loop_t *l = *self_p;
    if (!l)
        return;
    event_free(l->sigint);
    event_free(l->sigterm);
    event_base_free(l->base);
    free(l);
    *self_p = NULL;
}
