/* ekv_loop: a daemon's libevent loop with signal handling (see ekv_loop.h). */
#include "ekv_loop.h"

#include <errno.h>
#include <event2/event.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "ekv_err.h"
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

ekv_loop_t *ekv_loop_new(int npriorities)
{
    signal(SIGPIPE, SIG_IGN);
    ekv_loop_t *l = ekv_calloc(1, sizeof *l);
    struct event_config *ec = event_config_new();
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

/* ---- fine timers ------------------------------------------------------------------------- */

struct ekv_fine_timer {
    int fd;           /* the timerfd */
    struct event *ev; /* readable when it expires; also made active for a wait of 0 */
    int set;          /* set and not fired yet */
    int now;          /* set for this loop turn (ev made active, the timerfd not armed) */
    void (*fn)(void *arg);
    void *arg;
};

static void on_fine_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    ekv_fine_timer_t *t = arg;
    uint64_t expirations;
    if (t->now) {
        t->now = 0;
    } else {
        /* Nothing to read: the timer was set again (or cancelled) after it expired but before
         * this callback ran, or a due-now activation was overtaken by a later setting. */
        ssize_t got = read(fd, &expirations, sizeof expirations);
        if (got < 0 && errno != EAGAIN)
            ekv_warn("timerfd: %s", strerror(errno));
        if (got != (ssize_t)sizeof expirations)
            return;
    }
    if (!t->set)
        return;
    t->set = 0;
    t->fn(t->arg);
}

ekv_fine_timer_t *ekv_fine_timer_new(struct event_base *base, void (*fn)(void *arg), void *arg)
{
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    if (fd < 0)
        return NULL;
    ekv_fine_timer_t *t = ekv_calloc(1, sizeof *t);
    t->fd = fd;
    t->fn = fn;
    t->arg = arg;
    t->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_fine_timer, t);
    event_add(t->ev, NULL);
    return t;
}

int ekv_fine_timer_set(ekv_fine_timer_t *self, int64_t wait_us)
{
    if (wait_us <= 0) {
        ekv_fine_timer_cancel(self);
        self->set = self->now = 1;
        event_active(self->ev, EV_READ, 0);
        return EKV_OK;
    }
    struct itimerspec its = {.it_value = {wait_us / 1000000, (wait_us % 1000000) * 1000}};
    self->now = 0;
    if (timerfd_settime(self->fd, 0, &its, NULL) != 0) {
        self->set = 0;
        return EKV_EIO;
    }
    self->set = 1;
    return EKV_OK;
}

void ekv_fine_timer_cancel(ekv_fine_timer_t *self)
{
    if (!self->set)
        return;
    if (!self->now) {
        struct itimerspec off = {{0, 0}, {0, 0}};
        timerfd_settime(self->fd, 0, &off, NULL);
    }
    self->set = self->now = 0;
}

int ekv_fine_timer_pending(const ekv_fine_timer_t *self)
{
    return self->set;
}

void ekv_fine_timer_free(ekv_fine_timer_t **self_p)
{
    ekv_fine_timer_t *t = *self_p;
    if (!t)
        return;
    event_free(t->ev);
    close(t->fd);
    free(t);
    *self_p = NULL;
}
