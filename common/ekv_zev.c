/* ekv_zev: ZMQ_FD under libevent, drained until EAGAIN (see ekv_zev.h). */
#include "ekv_zev.h"

#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_loop.h"
#include "ekv_mem.h"

struct ekv_zev {
    struct event *ev;        /* persistent read event on ZMQ_FD */
    ekv_fine_timer_t *again; /* resumes a drain cut short by the budget, after a loop turn */
    void *sock;              /* borrowed zmq socket */
    int budget;              /* most callbacks per loop turn */
    ekv_zev_fn fn;           /* receive callback */
    void *arg;               /* its argument */
};

static int has_input(void *sock)
{
    int events = 0;
    size_t len = sizeof events;
    if (zmq_getsockopt(sock, ZMQ_EVENTS, &events, &len) != 0)
        return 0;
    return (events & ZMQ_POLLIN) != 0;
}

static void on_fd(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_zev_t *z = arg;
    for (int i = 0; i < z->budget; i++) {
        if (!has_input(z->sock))
            return;
        z->fn(z->sock, z->arg);
    }
    /* More is waiting. event_active() here would run us again in this same pass (libevent
     * 2.1 does not poll in between), starving HTTP and timers; a timer goes through a full
     * loop turn first. A fine one: the loop's own timers would wait a whole millisecond. */
    if (has_input(z->sock) && ekv_fine_timer_set(z->again, 1) != EKV_OK)
        ekv_warn("zmq drain: cannot set the resume timer");
}

static void on_again(void *arg)
{
    on_fd(-1, EV_READ, arg);
}

ekv_zev_t *ekv_zev_new(struct event_base *base, void *sock, int budget, ekv_zev_fn on_readable,
                       void *arg)
{
    int fd;
    size_t len = sizeof fd;
    if (zmq_getsockopt(sock, ZMQ_FD, &fd, &len) != 0)
        return NULL;
    ekv_zev_t *z = ekv_calloc(1, sizeof *z);
    z->again = ekv_fine_timer_new(base, on_again, z);
    if (!z->again) {
        free(z);
        return NULL;
    }
    z->sock = sock;
    z->budget = budget > 0 ? budget : 64;
    z->fn = on_readable;
    z->arg = arg;
    z->ev = event_new(base, fd, EV_READ | EV_PERSIST, on_fd, z);
    event_add(z->ev, NULL);
    event_active(z->ev, EV_READ, 0); /* drain once: the edge may have passed already */
    return z;
}

void ekv_zev_destroy(ekv_zev_t **self_p)
{
    ekv_zev_t *z = *self_p;
    if (!z)
        return;
    event_free(z->ev);
    ekv_fine_timer_free(&z->again);
    free(z);
    *self_p = NULL;
}

void ekv_zev_kick(ekv_zev_t *self)
{
    event_active(self->ev, EV_READ, 0);
}

int ekv_zev_recv(void *sock, zmq_msg_t *parts, int max, int *nparts, int *truncated)
{
    *nparts = 0;
    *truncated = 0;
    for (;;) {
        zmq_msg_t tmp, *m = *nparts < max ? &parts[*nparts] : &tmp;
        zmq_msg_init(m);
        if (zmq_msg_recv(m, sock, ZMQ_DONTWAIT) < 0) {
            int e = errno;
            zmq_msg_close(m);
            if (*nparts == 0 && e == EAGAIN)
                return EKV_EAGAIN;
            ekv_warn("zmq receive failed: %s", zmq_strerror(e));
            return EKV_EIO;
        }
        int more = zmq_msg_more(m);
        if (m == &tmp) {
            zmq_msg_close(m);
            *truncated = 1;
        } else {
            (*nparts)++;
        }
        if (!more)
            return EKV_OK;
    }
}

int ekv_zev_recv_routed(void *sock, zmq_msg_t parts[2])
{
    int nparts, truncated;
    int rc = ekv_zev_recv(sock, parts, 2, &nparts, &truncated);
    if (rc != EKV_OK)
        return rc;
    if (nparts == 2 && !truncated)
        return EKV_OK;
    for (int i = 0; i < nparts; i++)
        zmq_msg_close(&parts[i]);
    return EKV_EMALFORMED;
}

int ekv_zev_send(void *sock, const void *const *frames, const size_t *lens, int n)
{
    for (int i = 0; i < n; i++) {
        int flags = ZMQ_DONTWAIT | (i + 1 < n ? ZMQ_SNDMORE : 0);
        if (zmq_send(sock, frames[i], lens[i], flags) < 0)
            return errno == EAGAIN ? EKV_EAGAIN : EKV_EIO;
    }
    return EKV_OK;
}
