/* committer: a commit thread with a pipe back to the loop (see committer.h).
 *
 * Hand-over protocol: the loop sets `group` under the mutex and signals; the thread commits
 * it, publishes it, stores the results, and writes one byte to the pipe; the loop's pipe
 * event (or ekv_committer_wait) reads the byte and runs the callback. Only one group is ever in
 * flight, so sequence numbers stay gap-free and in commit order. */
#include "committer.h"

#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "ekv_cpu.h"
#include "ekv_err.h"
#include "ekv_mem.h"
#include "ekv_time.h"

struct ekv_committer {
    ekv_store_t *store;               /* borrowed */
    ekv_committer_publish_fn publish; /* on this thread, once a group is durable */
    ekv_committer_done_fn done;       /* completion, on the loop thread */
    void *arg;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;          /* asks the thread to end (under mu) */
    int busy;          /* a group is in flight (loop thread only) */
    ekv_msg_t *drafts; /* the group in flight (under mu until taken) */
    size_t n;
    int pending;   /* 1: drafts handed over, not yet taken by the thread */
    char **bodies; /* results of the group */
    size_t *lens;
    int rc;
    int64_t commit_us;
    int pipe[2];      /* thread -> loop: one byte per finished group */
    struct event *ev; /* reads the pipe */
};

int64_t ekv_commit_linger_us(size_t queued, size_t last_group, size_t max_batch,
                             int64_t last_commit_us)
{
    if (last_group < 2 || queued >= last_group || queued >= max_batch)
        return 0;
    int64_t wait = last_commit_us / 2;
    if (wait > EKV_COMMIT_LINGER_MAX_US)
        wait = EKV_COMMIT_LINGER_MAX_US;
    return wait > 0 ? wait : 1;
}

static void *run(void *arg)
{
    ekv_committer_t *c = arg;
    for (;;) {
        pthread_mutex_lock(&c->mu);
        while (!c->pending && !c->stop)
            pthread_cond_wait(&c->cv, &c->mu);
        if (!c->pending) {
            pthread_mutex_unlock(&c->mu);
            return NULL;
        }
        c->pending = 0;
        pthread_mutex_unlock(&c->mu);
        c->rc = ekv_store_commit(c->store, c->drafts, c->n, ekv_now_us(), c->bodies, c->lens);
        c->commit_us = ekv_now_us();
        if (c->rc == EKV_OK)
            c->publish(c->arg, c->drafts, c->n, c->bodies, c->lens, c->commit_us);
        char byte = 1;
        while (write(c->pipe[1], &byte, 1) < 0 && errno == EINTR)
            ;
    }
}

/* Takes the finished-group byte and runs the callback. */
static void finish(ekv_committer_t *c)
{
    char byte;
    if (read(c->pipe[0], &byte, 1) != 1)
        return;
    ekv_msg_t *drafts = c->drafts;
    char **bodies = c->bodies;
    size_t *lens = c->lens, n = c->n;
    c->busy = 0;
    c->drafts = NULL;
    c->bodies = NULL;
    c->lens = NULL;
    c->done(c->arg, drafts, n, bodies, lens, c->rc, c->commit_us);
}

static void on_pipe(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    finish(arg);
}

ekv_committer_t *ekv_committer_new(struct event_base *base, ekv_store_t *store,
                                   ekv_committer_publish_fn publish, ekv_committer_done_fn done,
                                   void *arg)
{
    ekv_committer_t *c = ekv_calloc(1, sizeof *c);
    c->store = store;
    c->publish = publish;
    c->done = done;
    c->arg = arg;
    if (pipe2(c->pipe, O_CLOEXEC) != 0) {
        free(c);
        return NULL;
    }
    fcntl(c->pipe[0], F_SETFL, O_NONBLOCK);
    pthread_mutex_init(&c->mu, NULL);
    pthread_cond_init(&c->cv, NULL);
    c->ev = event_new(base, c->pipe[0], EV_READ | EV_PERSIST, on_pipe, c);
    event_add(c->ev, NULL);
    pthread_create(&c->thread, NULL, run, c);
    pthread_setname_np(c->thread, "ekv-commit"); /* apart from the loop in top -H, perf */
    return c;
}

int ekv_committer_pin(ekv_committer_t *self, int cpu)
{
    return ekv_cpu_pin_thread(self->thread, cpu);
}

int ekv_committer_busy(const ekv_committer_t *self)
{
    return self->busy;
}

int ekv_committer_start(ekv_committer_t *self, ekv_msg_t *drafts, size_t n)
{
    if (self->busy)
        return EKV_EAGAIN; /* one group at a time: sequence numbers stay in commit order */
    self->busy = 1;
    self->bodies = ekv_calloc(n ? n : 1, sizeof *self->bodies);
    self->lens = ekv_calloc(n ? n : 1, sizeof *self->lens);
    pthread_mutex_lock(&self->mu);
    self->drafts = drafts;
    self->n = n;
    self->pending = 1;
    pthread_mutex_unlock(&self->mu);
    /* Signalled after unlocking: signalled under the mutex, the woken thread would find it
     * still held and sleep again at once, a second wakeup and two more futex calls. */
    pthread_cond_signal(&self->cv);
    return EKV_OK;
}

void ekv_committer_wait(ekv_committer_t *self)
{
    while (self->busy) {
        struct pollfd p = {self->pipe[0], POLLIN, 0};
        poll(&p, 1, -1);
        finish(self);
    }
}

void ekv_committer_destroy(ekv_committer_t **self_p)
{
    ekv_committer_t *c = *self_p;
    if (!c)
        return;
    ekv_committer_wait(c);
    pthread_mutex_lock(&c->mu);
    c->stop = 1;
    pthread_cond_signal(&c->cv);
    pthread_mutex_unlock(&c->mu);
    pthread_join(c->thread, NULL);
    event_free(c->ev);
    close(c->pipe[0]);
    close(c->pipe[1]);
    pthread_mutex_destroy(&c->mu);
    pthread_cond_destroy(&c->cv);
    free(c);
    *self_p = NULL;
}
