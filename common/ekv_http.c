/* ekv_http: evhttp served under a guard (see ekv_http.h).
 *
 * evhttp owns every connection: it accepts on its listener, parses, and frees the connection
 * when it ends. The guard follows each one through public hooks only:
 *   - evhttp_set_bevcb: evhttp asks us for the bufferevent of each accepted connection. We
 *     make a plain socket bufferevent (a filter in front would report a reply written as soon
 *     as it reached the filter, and evhttp would close with the reply unsent), count the
 *     connection and hold a reference on the bufferevent until the work event runs.
 *   - The work event, activated at once at priority 0, runs before any I/O of the new socket:
 *     by then evhttp has set its callbacks on the bufferevent, their argument being the
 *     evhttp_connection, and we register a close callback on it. evhttp_connection_free calls
 *     it for every server connection (they never enter the DISCONNECTED state), including the
 *     ones evhttp_free ends, so the count cannot drift. A bufferevent left without callbacks
 *     was dropped by evhttp in between (its own error paths): it is uncounted there.
 *   - An evbuffer callback on the connection's input: the first byte of a request starts its
 *     deadline, and the request line and headers are scanned for their end (a blank line) and
 *     their size. The handler wrapper stops the deadline when evhttp hands over the request;
 *     evhttp_request_set_on_complete_cb starts the idle time when the reply is written.
 *   - A reply the handler gave at once is written by the wrapper as soon as the handler returns
 *     (write_now), not a loop turn later from the writable event.
 * Connection states, each but HANDLING with a FIFO list (a list's timeout is the same for all
 * its members, so its head is always the next to expire); one timer for the earliest head:
 *   FRESH     accepted, waiting for the work event
 *   IDLE      no request in progress: closed silently after idle_timeout_ms
 *   READING   a request's first byte came: answered 408 after request_timeout_ms
 *   HANDLING  the handler owns the request; its time is not the client's. evhttp keeps
 *             reading while it writes the reply (to notice a close): past max_header_bytes
 *             of input it stops reading, so a client cannot fill our memory meanwhile
 *   DOOMED    to be rejected (found inside a libevent callback; the work event acts)
 *   LINGER    rejected: its reply sent and its sending side shut down, the client's bytes are
 *             read and dropped until it closes or EKV_HTTP_LINGER_MS pass, so that closing
 *             with unread bytes (a reset) cannot destroy the reply before the client reads it
 * Rejecting (408, 431) disables the bufferevent and drains its input, so evhttp parses nothing
 * more, and writes the reply to the socket directly: the output is empty, because a connection
 * is only IDLE again once its last reply was written.
 * The cap: when the count reaches it, evhttp's listener is disabled (its accept loop stops
 * after the current socket) and the guard's own event on the listening socket accepts the
 * surplus, answers 503 and lingers them as above (at most orphan_max at once, beyond that they
 * are closed at once). Below the cap, evhttp's listener takes over again. accept() failing for
 * want of descriptors or memory pauses both for ACCEPT_BACKOFF_MS instead of spinning on a
 * readable listening socket.
 * Invariants: nconns counts connections from bevcb to their close callback. A connection is
 * freed only by conn_free. evhttp_connection_free is called only from the guard's own events
 * (timer, linger, work), never from inside evhttp or a bufferevent callback, and never while
 * a handler owns the request. The listener is enabled again only from the guard's events:
 * while evhttp_free ends the connections, the listener is already gone. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* accept4 */
#endif
#include "ekv_http.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/http_struct.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "ekv_err.h"
#include "ekv_log.h"
#include "ekv_mem.h"
#include "ekv_time.h"

#define ACCEPT_BACKOFF_MS 100
#define ACCEPT_BURST      64        /* surplus connections refused per wakeup */
#define FD_RESERVE        512       /* at most, kept for all but client connections */
#define LINGER_MAX_BYTES  (1 << 20) /* a rejected client still sending this much is cut off */

typedef enum { C_FRESH, C_IDLE, C_READING, C_HANDLING, C_DOOMED, C_LINGER } cstate_t;

typedef struct conn conn_t;
typedef struct {
    conn_t *head, *tail;
} clist_t;

struct conn {
    ekv_http_guard_t *g;
    struct bufferevent *bev;         /* evhttp's (we made it); referenced by us while FRESH */
    struct evhttp_connection *evcon; /* set when attached; NULL for a refused orphan */
    struct evbuffer_cb_entry *in_cb; /* watches the input */
    struct event *linger_ev;         /* LINGER: the socket is readable */
    evutil_socket_t fd;              /* evhttp's socket, or the orphan's own */
    cstate_t state;
    clist_t *list; /* the list it is in; NULL while HANDLING */
    conn_t *prev, *next;
    int64_t deadline_us; /* CLOCK_MONOTONIC; meaningful in idle, reading and linger */
    size_t head_len;     /* request line and header bytes seen */
    int eol;             /* scanner: 0 inside a line, 1 after LF, 2 after LF CR */
    int head_done;       /* the blank line ending the headers was seen */
    int reject;          /* DOOMED: the status to answer */
    size_t dropped;      /* LINGER: bytes read and dropped */
};

struct ekv_http_guard {
    struct event_base *base; /* borrowed */
    ekv_http_limits_t lim;
    struct evhttp *http; /* the server guarded (borrowed); NULL until ekv_http_serve */
    void (*cb)(struct evhttp_request *, void *);
    void *cb_arg;
    struct evconnlistener *listener; /* evhttp's (borrowed) */
    struct event *refuse_ev;         /* the listening socket, while at the cap */
    struct event *work_ev;           /* attaches FRESH, rejects DOOMED, resumes accepting */
    struct event *timer_ev;          /* the earliest deadline */
    struct event *backoff_ev;        /* ends an accept pause */
    int listening, refusing, backoff;
    int64_t armed_us;  /* when timer_ev fires; 0 = not armed */
    int64_t warned_us; /* last accept failure logged */
    clist_t fresh, idle, reading, doomed, linger;
    conn_t **by_fd; /* attached connections by descriptor */
    size_t nby_fd;
    size_t nconns, peak;         /* evhttp's connections now, and at most so far */
    size_t norphans, orphan_max; /* refused connections lingering */
    uint64_t accepted, refused, timeouts_request, timeouts_idle, too_large, accept_errors;
};

static ekv_http_guard_t *the_guard; /* the process's guard, see ekv_http.h */

/* ---- lists and the timer ----------------------------------------------------------------- */

static void unlink_conn(conn_t *c)
{
    clist_t *l = c->list;
    if (!l)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        l->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    else
        l->tail = c->prev;
    c->prev = c->next = NULL;
    c->list = NULL;
}

static void arm(ekv_http_guard_t *g, int64_t when_us)
{
    if (g->armed_us && g->armed_us <= when_us)
        return;
    g->armed_us = when_us;
    int64_t d = when_us - ekv_mono_us();
    if (d < 0)
        d = 0;
    struct timeval tv = {(time_t)(d / 1000000), (suseconds_t)(d % 1000000)};
    event_add(g->timer_ev, &tv);
}

/* Puts c in state st at the tail of l (NULL: no list), due timeout_ms from now (0: never). */
static void move_to(conn_t *c, cstate_t st, clist_t *l, int timeout_ms)
{
    unlink_conn(c);
    c->state = st;
    if (!l)
        return;
    c->list = l;
    c->prev = l->tail;
    if (l->tail)
        l->tail->next = c;
    else
        l->head = c;
    l->tail = c;
    if (timeout_ms > 0) {
        c->deadline_us = ekv_mono_us() + (int64_t)timeout_ms * 1000;
        arm(c->g, c->deadline_us);
    }
}

/* ---- accepting --------------------------------------------------------------------------- */

/* Lets evhttp accept below the cap, refuses at it, neither during a pause. Call it only while
 * the listener exists (from the guard's events or from inside the listener's callbacks). */
static void update_accepting(ekv_http_guard_t *g)
{
    if (!g->listener)
        return;
    int listen = !g->backoff && g->nconns < (size_t)g->lim.max_connections;
    int refuse = !g->backoff && !listen;
    if (listen != g->listening) {
        if (listen)
            evconnlistener_enable(g->listener);
        else
            evconnlistener_disable(g->listener);
        g->listening = listen;
    }
    if (refuse != g->refusing) {
        if (refuse)
            event_add(g->refuse_ev, NULL);
        else
            event_del(g->refuse_ev);
        g->refusing = refuse;
    }
}

static void pause_accepting(ekv_http_guard_t *g, int err)
{
    g->accept_errors++;
    if (err != EMFILE && err != ENFILE && err != ENOBUFS && err != ENOMEM) {
        ekv_warn("http accept: %s", strerror(err));
        return;
    }
    int64_t now = ekv_mono_us();
    if (!g->backoff && now - g->warned_us > 10000000) { /* one line per 10 s at most */
        ekv_warn("http accept: %s; new connections wait (%llu times so far)", strerror(err),
                 (unsigned long long)g->accept_errors);
        g->warned_us = now;
    }
    g->backoff = 1;
    update_accepting(g);
    struct timeval tv = {0, ACCEPT_BACKOFF_MS * 1000};
    evtimer_add(g->backoff_ev, &tv);
}

static void on_backoff(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_http_guard_t *g = arg;
    g->backoff = 0;
    update_accepting(g);
}

/* evhttp's listener failed to accept (its user argument is the evhttp, not the guard). */
static void on_accept_error(struct evconnlistener *lev, void *arg)
{
    (void)arg;
    int err = EVUTIL_SOCKET_ERROR();
    if (the_guard && the_guard->listener == lev)
        pause_accepting(the_guard, err);
}

/* ---- connections ------------------------------------------------------------------------- */

static void conn_free(conn_t *c)
{
    ekv_http_guard_t *g = c->g;
    unlink_conn(c);
    if (c->linger_ev)
        event_free(c->linger_ev);
    if (c->in_cb)
        evbuffer_remove_cb_entry(bufferevent_get_input(c->bev), c->in_cb);
    if (c->evcon && c->fd >= 0 && (size_t)c->fd < g->nby_fd && g->by_fd[c->fd] == c)
        g->by_fd[c->fd] = NULL;
    if (c->bev) {
        g->nconns--;
        if (!g->listening && g->nconns < (size_t)g->lim.max_connections)
            event_active(g->work_ev, EV_READ, 0); /* accept again, from the work event */
    } else {
        g->norphans--;
    }
    free(c);
}

/* Ends c: evhttp frees its connection, or the orphan's socket is closed. */
static void close_conn(conn_t *c)
{
    struct evhttp_connection *evcon = c->evcon;
    evutil_socket_t fd = c->fd;
    int orphan = c->bev == NULL;
    if (evcon)
        evhttp_connection_set_closecb(evcon, NULL, NULL);
    conn_free(c);
    if (evcon)
        evhttp_connection_free(evcon);
    else if (orphan)
        close(fd);
}

static void on_close(struct evhttp_connection *evcon, void *arg)
{
    (void)evcon;
    conn_free(arg);
}

/* Writes a complete reply to a socket whose output is empty; a short write only shortens it. */
static void send_reply(const ekv_http_guard_t *g, evutil_socket_t fd, int status)
{
    char msg[128], out[512];
    if (status == 408)
        snprintf(msg, sizeof msg, "Request not received within %d ms", g->lim.request_timeout_ms);
    else if (status == 431)
        snprintf(msg, sizeof msg, "Request line and headers exceed %d bytes",
                 g->lim.max_header_bytes);
    else
        snprintf(msg, sizeof msg, "Too many connections: at most %d at once",
                 g->lim.max_connections);
    int n = snprintf(out, sizeof out,
                     "HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\n"
                     "Content-Length: %zu\r\nConnection: close\r\n%s\r\n%s\n",
                     status, msg, strlen(msg) + 1, status == 503 ? "Retry-After: 1\r\n" : "", msg);
    if (send(fd, out, (size_t)n, MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
        ekv_debug("http: cannot send %d: %s", status, strerror(errno));
}

/* Reads and drops what the client sends; 1 when it closed, failed or sent too much. */
static int drain_socket(evutil_socket_t fd, size_t *dropped)
{
    char buf[4096];
    for (;;) {
        ssize_t n = recv(fd, buf, sizeof buf, MSG_DONTWAIT);
        if (n > 0) {
            *dropped += (size_t)n;
            if (*dropped > LINGER_MAX_BYTES)
                return 1;
            continue;
        }
        if (n == 0)
            return 1;
        return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    }
}

static void on_linger(evutil_socket_t fd, short what, void *arg)
{
    (void)what;
    conn_t *c = arg;
    if (drain_socket(fd, &c->dropped))
        close_conn(c);
}

static void start_linger(conn_t *c, int status)
{
    ekv_http_guard_t *g = c->g;
    send_reply(g, c->fd, status);
    shutdown(c->fd, SHUT_WR);
    c->linger_ev = event_new(g->base, c->fd, EV_READ | EV_PERSIST, on_linger, c);
    event_add(c->linger_ev, NULL);
    move_to(c, C_LINGER, &g->linger, EKV_HTTP_LINGER_MS);
}

/* Answers status on an attached connection that no handler owns, then lingers. */
static void reject(conn_t *c, int status)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    bufferevent_disable(c->bev, EV_READ | EV_WRITE);
    evbuffer_cb_clear_flags(in, c->in_cb, EVBUFFER_CB_ENABLED);
    evbuffer_drain(in, evbuffer_get_length(in));
    start_linger(c, status);
}

/* From inside libevent: keeps evhttp from parsing further and leaves the rest to the work
 * event (freeing or disabling the bufferevent here could pull it from under evhttp). */
static void doom(conn_t *c, int status)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    c->reject = status;
    move_to(c, C_DOOMED, &c->g->doomed, 0);
    evbuffer_cb_set_flags(in, c->in_cb, EVBUFFER_CB_ENABLED); /* drains what comes next */
    evbuffer_drain(in, evbuffer_get_length(in));
    event_active(c->g->work_ev, EV_READ, 0);
}

/* ---- requests ---------------------------------------------------------------------------- */

/* Advances the header scanner over p[0..n); returns the bytes that belong to the head. */
static size_t scan_head(conn_t *c, const char *p, size_t n)
{
    const char *s = p, *end = p + n;
    while (s < end) {
        if (c->eol) { /* at the start of a line (after LF, or LF CR) */
            if (*s == '\n') {
                c->head_done = 1;
                s++;
                break;
            }
            if (*s == '\r' && c->eol == 1) {
                c->eol = 2;
                s++;
                continue;
            }
            c->eol = 0;
        }
        const char *lf = memchr(s, '\n', (size_t)(end - s));
        if (!lf) {
            s = end;
            break;
        }
        s = lf + 1;
        c->eol = 1;
    }
    c->head_len += (size_t)(s - p);
    return (size_t)(s - p);
}

/* Scans the input from byte `from` until the end of the head; dooms an oversized head. */
static void scan(conn_t *c, struct evbuffer *in, size_t from)
{
    size_t len = evbuffer_get_length(in);
    struct evbuffer_ptr pos;
    if (from >= len || evbuffer_ptr_set(in, &pos, from, EVBUFFER_PTR_SET) != 0)
        return;
    size_t left = len - from;
    while (left > 0 && !c->head_done && c->head_len <= (size_t)c->g->lim.max_header_bytes) {
        struct evbuffer_iovec v[4];
        int n = evbuffer_peek(in, (ev_ssize_t)left, &pos, v, 4);
        if (n <= 0)
            break;
        size_t used = 0;
        for (int i = 0; i < n && i < 4 && !c->head_done && used < left; i++) {
            size_t take = v[i].iov_len < left - used ? v[i].iov_len : left - used;
            used += scan_head(c, v[i].iov_base, take);
        }
        left -= used;
        if (left && evbuffer_ptr_set(in, &pos, used, EVBUFFER_PTR_ADD) != 0)
            break;
    }
    if (c->head_len > (size_t)c->g->lim.max_header_bytes) {
        c->g->too_large++;
        doom(c, 431);
    } else if (c->head_done) {
        evbuffer_cb_clear_flags(in, c->in_cb, EVBUFFER_CB_ENABLED); /* the body is not ours */
    }
}

static void start_request(conn_t *c, struct evbuffer *in, size_t from)
{
    c->head_len = 0;
    c->eol = 0;
    c->head_done = 0;
    move_to(c, C_READING, &c->g->reading, c->g->lim.request_timeout_ms);
    scan(c, in, from);
}

/* The connection's input changed: the first byte of a request, or more of its head. */
static void on_input(struct evbuffer *in, const struct evbuffer_cb_info *info, void *arg)
{
    conn_t *c = arg;
    if (!info->n_added)
        return;
    size_t len = evbuffer_get_length(in);
    size_t from = info->n_added < len ? len - info->n_added : 0;
    if (c->state == C_DOOMED)
        evbuffer_drain(in, len);
    else if (c->state == C_HANDLING && len > (size_t)c->g->lim.max_header_bytes)
        bufferevent_disable(c->bev, EV_READ); /* evhttp reads on while it writes the reply */
    else if (c->state == C_IDLE)
        start_request(c, in, from);
    else if (c->state == C_READING && !c->head_done)
        scan(c, in, from);
}

static void go_idle(conn_t *c)
{
    struct evbuffer *in = bufferevent_get_input(c->bev);
    evbuffer_cb_set_flags(in, c->in_cb, EVBUFFER_CB_ENABLED);
    move_to(c, C_IDLE, &c->g->idle, c->g->lim.idle_timeout_ms);
    if (evbuffer_get_length(in) > 0) /* a pipelined request came with the last one */
        start_request(c, in, 0);
}

/* The reply was written: the connection waits for its next request. */
static void on_complete(struct evhttp_request *req, void *arg)
{
    (void)req;
    go_idle(arg);
}

static conn_t *conn_of(ekv_http_guard_t *g, struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    if (!evcon)
        return NULL;
    evutil_socket_t fd = bufferevent_getfd(evhttp_connection_get_bufferevent(evcon));
    if (fd < 0 || (size_t)fd >= g->nby_fd)
        return NULL;
    conn_t *c = g->by_fd[fd];
    return c && c->evcon == evcon ? c : NULL;
}

/* The handler has answered (a cache hit answers at once): the reply is written now, not from
 * the socket's writable event in the next loop turn, and evhttp's write callback runs as that
 * event would have run it once the output drained (bufferevent_writecb, up to the same
 * max_single_write). evhttp completes the request there (on_complete) and starts on the next
 * one; its enabling and then disabling of the write event cancel out in the epoll changelist,
 * which saves an epoll_ctl call and a wakeup per read. What the socket does not take now is
 * left to the write event, as before; so is all of it if the output's front were frozen
 * (bufferevent_socket_new freezes it, but evhttp's bufferevent_setfd thaws it: libevent 2.1's
 * be_socket_setfd). libevent 2.1 touches neither the request nor its connection after the
 * request callback, so evhttp may free both here (Connection: close); c is not used
 * afterwards. */
static void write_now(conn_t *c)
{
    struct bufferevent *bev = c->bev;
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_get_length(out) == 0 || !(bufferevent_get_enabled(bev) & EV_WRITE))
        return; /* no reply yet: the handler answers later */
    int n = evbuffer_write_atmost(out, c->fd, bufferevent_get_max_single_write(bev));
    if (n > 0 && evbuffer_get_length(out) == 0)
        bufferevent_trigger(bev, EV_WRITE, 0);
}

/* Every request: from here on, the time is the handler's. */
static void on_request(struct evhttp_request *req, void *arg)
{
    ekv_http_guard_t *g = arg;
    conn_t *c = conn_of(g, req);
    if (c && c->state != C_HANDLING) {
        if (c->linger_ev) { /* cannot happen: a lingering connection parses nothing */
            event_free(c->linger_ev);
            c->linger_ev = NULL;
        }
        move_to(c, C_HANDLING, NULL, 0);
        evbuffer_cb_set_flags(bufferevent_get_input(c->bev), c->in_cb, EVBUFFER_CB_ENABLED);
        evhttp_request_set_on_complete_cb(req, on_complete, c);
    }
    g->cb(req, g->cb_arg);
    if (c && c->state == C_HANDLING)
        write_now(c);
}

/* ---- the work event: attach new connections, reject doomed ones -------------------------- */

static void index_fd(ekv_http_guard_t *g, conn_t *c)
{
    if ((size_t)c->fd >= g->nby_fd) {
        size_t n = g->nby_fd ? g->nby_fd : 256;
        while (n <= (size_t)c->fd)
            n *= 2;
        g->by_fd = ekv_realloc(g->by_fd, n * sizeof *g->by_fd);
        memset(g->by_fd + g->nby_fd, 0, (n - g->nby_fd) * sizeof *g->by_fd);
        g->nby_fd = n;
    }
    g->by_fd[c->fd] = c;
}

static void attach(conn_t *c)
{
    struct bufferevent *bev = c->bev;
    bufferevent_event_cb ecb = NULL;
    void *evcon = NULL;
    bufferevent_getcb(bev, NULL, NULL, &ecb, &evcon);
    c->fd = bufferevent_getfd(bev);
    if (!ecb || !evcon || c->fd < 0) { /* evhttp dropped it already */
        conn_free(c);
        bufferevent_decref(bev);
        return;
    }
    c->evcon = evcon;
    evhttp_connection_set_closecb(c->evcon, on_close, c);
    index_fd(c->g, c);
    c->in_cb = evbuffer_add_cb(bufferevent_get_input(bev), on_input, c);
    go_idle(c);
    bufferevent_decref(bev);
}

static void on_work(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_http_guard_t *g = arg;
    conn_t *c;
    while ((c = g->fresh.head))
        attach(c);
    while ((c = g->doomed.head))
        reject(c, c->reject);
    update_accepting(g);
}

/* evhttp accepted a socket and asks for its bufferevent. */
static struct bufferevent *on_new_bev(struct event_base *base, void *arg)
{
    ekv_http_guard_t *g = arg;
    struct bufferevent *bev = bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
    if (!bev)
        return NULL;
    conn_t *c = ekv_calloc(1, sizeof *c);
    c->g = g;
    c->bev = bev;
    c->fd = -1;
    bufferevent_incref(bev);
    move_to(c, C_FRESH, &g->fresh, 0);
    g->accepted++;
    if (++g->nconns > g->peak)
        g->peak = g->nconns;
    event_active(g->work_ev, EV_READ, 0);
    if (g->nconns >= (size_t)g->lim.max_connections)
        update_accepting(g); /* inside the listener's callback: it stops accepting */
    return bev;
}

/* At the cap: accepts the surplus, answers 503 without reading, and lingers. */
static void on_refuse(evutil_socket_t lfd, short what, void *arg)
{
    (void)what;
    ekv_http_guard_t *g = arg;
    for (int i = 0; i < ACCEPT_BURST; i++) {
        int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR && errno != ECONNABORTED)
                pause_accepting(g, errno);
            return;
        }
        g->refused++;
        if (g->norphans >= g->orphan_max) {
            send_reply(g, fd, 503);
            close(fd);
            continue;
        }
        conn_t *c = ekv_calloc(1, sizeof *c);
        c->g = g;
        c->fd = fd;
        g->norphans++;
        start_linger(c, 503);
    }
}

/* ---- the timer --------------------------------------------------------------------------- */

static void on_timer(evutil_socket_t fd, short what, void *arg)
{
    (void)fd;
    (void)what;
    ekv_http_guard_t *g = arg;
    g->armed_us = 0;
    int64_t now = ekv_mono_us();
    conn_t *c;
    while ((c = g->reading.head) && c->deadline_us <= now) {
        g->timeouts_request++;
        reject(c, 408);
    }
    while ((c = g->idle.head) && c->deadline_us <= now) {
        g->timeouts_idle++;
        close_conn(c);
    }
    while ((c = g->linger.head) && c->deadline_us <= now)
        close_conn(c);
    int64_t next = 0;
    clist_t *lists[] = {&g->reading, &g->idle, &g->linger};
    for (size_t i = 0; i < 3; i++)
        if (lists[i]->head && (!next || lists[i]->head->deadline_us < next))
            next = lists[i]->head->deadline_us;
    if (next)
        arm(g, next);
}

/* ---- the guard --------------------------------------------------------------------------- */

void ekv_http_limits_defaults(ekv_http_limits_t *l)
{
    l->max_connections = EKV_HTTP_MAX_CONNECTIONS;
    l->request_timeout_ms = EKV_HTTP_REQUEST_TIMEOUT;
    l->idle_timeout_ms = EKV_HTTP_IDLE_TIMEOUT;
    l->max_header_bytes = EKV_HTTP_MAX_HEADER_BYTES;
}

void ekv_http_opts_defaults(ekv_http_opts_t *o)
{
    ekv_http_limits_t l;
    ekv_http_limits_defaults(&l);
    *o = (ekv_http_opts_t){l.max_connections, l.request_timeout_ms, l.idle_timeout_ms};
}

void ekv_http_opts_limits(const ekv_http_opts_t *o, ekv_http_limits_t *l)
{
    ekv_http_limits_defaults(l);
    l->max_connections = (int)o->max_connections;
    l->request_timeout_ms = (int)o->request_timeout_ms;
    l->idle_timeout_ms = (int)o->idle_timeout_ms;
}

static size_t orphans_for(long max_connections)
{
    long n = max_connections / 16;
    return (size_t)(n < 4 ? 4 : n > 256 ? 256 : n);
}

/* Raises the descriptor limit as far as allowed. A quarter of it (at most FD_RESERVE) stays
 * for everything but clients; when the rest cannot hold the cap and the refused connections
 * lingering, the cap is lowered (with a warning). */
static int fit_fd_limit(ekv_http_limits_t *l, size_t *orphan_max, char *errbuf, size_t errlen)
{
    struct rlimit rl;
    *orphan_max = orphans_for(l->max_connections);
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return EKV_OK;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = {rl.rlim_max, rl.rlim_max};
        if (setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    if (rl.rlim_cur == RLIM_INFINITY)
        return EKV_OK;
    long nofile = (long)rl.rlim_cur;
    long avail = nofile - (nofile / 4 < FD_RESERVE ? nofile / 4 : FD_RESERVE);
    if (avail < 32) {
        snprintf(errbuf, errlen, "only %ld file descriptors (RLIMIT_NOFILE): too few to serve",
                 nofile);
        return EKV_EINVAL;
    }
    if (l->max_connections + (long)*orphan_max > avail) {
        *orphan_max = orphans_for(avail * 16 / 17);
        ekv_warn("max connections %d lowered to %ld: RLIMIT_NOFILE is %ld", l->max_connections,
                 avail - (long)*orphan_max, nofile);
        l->max_connections = (int)(avail - (long)*orphan_max);
    }
    return EKV_OK;
}

ekv_http_guard_t *ekv_http_guard_new(struct event_base *base, const ekv_http_limits_t *l,
                                     char *errbuf, size_t errlen)
{
    if (the_guard) {
        snprintf(errbuf, errlen, "an HTTP guard exists already");
        return NULL;
    }
    if (l->max_connections < 1 || l->request_timeout_ms < 1 || l->idle_timeout_ms < 1 ||
        l->max_header_bytes < 256) {
        snprintf(errbuf, errlen, "HTTP limits out of range");
        return NULL;
    }
    ekv_http_limits_t lim = *l;
    size_t orphan_max;
    if (fit_fd_limit(&lim, &orphan_max, errbuf, errlen) != EKV_OK)
        return NULL;
    ekv_http_guard_t *g = ekv_calloc(1, sizeof *g);
    g->base = base;
    g->lim = lim;
    g->orphan_max = orphan_max;
    g->work_ev = event_new(base, -1, 0, on_work, g);
    event_priority_set(g->work_ev, 0); /* before any I/O of a connection just accepted */
    g->timer_ev = evtimer_new(base, on_timer, g);
    g->backoff_ev = evtimer_new(base, on_backoff, g);
    the_guard = g;
    return g;
}

void ekv_http_guard_destroy(ekv_http_guard_t **self_p)
{
    ekv_http_guard_t *g = *self_p;
    if (!g)
        return;
    conn_t *c;
    while ((c = g->fresh.head)) { /* evhttp_free dropped them; our reference keeps them */
        struct bufferevent *bev = c->bev;
        conn_free(c);
        bufferevent_decref(bev);
    }
    while ((c = g->linger.head)) /* refused orphans; evhttp's connections are gone */
        close_conn(c);
    if (g->refuse_ev)
        event_free(g->refuse_ev);
    event_free(g->work_ev);
    event_free(g->timer_ev);
    event_free(g->backoff_ev);
    free(g->by_fd);
    free(g);
    the_guard = NULL;
    *self_p = NULL;
}

/* ---- serving ----------------------------------------------------------------------------- */

static int bind_http(struct evhttp *http, const char *host, int port, int *bound,
                     struct evhttp_bound_socket **bs_out, char *errbuf, size_t errlen)
{
    struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, host, (uint16_t)port);
    if (!bs) {
        snprintf(errbuf, errlen, "cannot listen on %s:%d", host, port);
        return EKV_EIO;
    }
    struct sockaddr_storage ss;
    socklen_t sl = sizeof ss;
    getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl);
    *bound = ss.ss_family == AF_INET6 ? ntohs(((struct sockaddr_in6 *)&ss)->sin6_port)
                                      : ntohs(((struct sockaddr_in *)&ss)->sin_port);
    *bs_out = bs;
    return EKV_OK;
}

int ekv_http_serve(struct evhttp *http, const char *host, int port,
                   void (*cb)(struct evhttp_request *, void *), void *arg, int *bound, char *errbuf,
                   size_t errlen)
{
    ekv_http_guard_t *g = the_guard;
    struct evhttp_bound_socket *bs;
    if (!g) {
        evhttp_set_gencb(http, cb, arg);
        return bind_http(http, host, port, bound, &bs, errbuf, errlen);
    }
    if (g->http) {
        snprintf(errbuf, errlen, "the HTTP guard serves a server already");
        return EKV_EINVAL;
    }
    g->cb = cb;
    g->cb_arg = arg;
    evhttp_set_gencb(http, on_request, g);
    evhttp_set_bevcb(http, on_new_bev, g);
    /* evhttp's own limit (413) only backs ours (431) up: our count includes line ends. */
    evhttp_set_max_headers_size(http, 2 * (ev_ssize_t)g->lim.max_header_bytes);
    int rc = bind_http(http, host, port, bound, &bs, errbuf, errlen);
    if (rc != EKV_OK)
        return rc;
    g->http = http;
    g->listener = evhttp_bound_socket_get_listener(bs);
    g->listening = 1;
    evconnlistener_set_error_cb(g->listener, on_accept_error);
    g->refuse_ev =
        event_new(g->base, evconnlistener_get_fd(g->listener), EV_READ | EV_PERSIST, on_refuse, g);
    return EKV_OK;
}

/* ---- metrics ----------------------------------------------------------------------------- */

void ekv_http_metrics(struct evbuffer *out, const char *labels)
{
    const ekv_http_guard_t *g = the_guard;
    if (!g)
        return;
    char one[160] = "", more[160] = "";
    if (labels && *labels) {
        snprintf(one, sizeof one, "{%s}", labels);
        snprintf(more, sizeof more, "%s,", labels);
    }
    evbuffer_add_printf(
        out,
        "# HELP edgekv_http_connections HTTP connections open now.\n"
        "# TYPE edgekv_http_connections gauge\nedgekv_http_connections%s %zu\n"
        "# HELP edgekv_http_connections_peak The most HTTP connections open at once.\n"
        "# TYPE edgekv_http_connections_peak gauge\nedgekv_http_connections_peak%s %zu\n"
        "# HELP edgekv_http_connections_limit HTTP connections allowed at once.\n"
        "# TYPE edgekv_http_connections_limit gauge\nedgekv_http_connections_limit%s %d\n"
        "# HELP edgekv_http_connections_accepted_total HTTP connections accepted.\n"
        "# TYPE edgekv_http_connections_accepted_total counter\n"
        "edgekv_http_connections_accepted_total%s %llu\n"
        "# HELP edgekv_http_connections_refused_total HTTP connections refused beyond the limit.\n"
        "# TYPE edgekv_http_connections_refused_total counter\n"
        "edgekv_http_connections_refused_total%s %llu\n"
        "# HELP edgekv_http_timeouts_total HTTP connections closed by a timeout, by phase.\n"
        "# TYPE edgekv_http_timeouts_total counter\n"
        "edgekv_http_timeouts_total{%sphase=\"request\"} %llu\n"
        "edgekv_http_timeouts_total{%sphase=\"idle\"} %llu\n"
        "# HELP edgekv_http_headers_too_large_total Requests refused for headers over the cap.\n"
        "# TYPE edgekv_http_headers_too_large_total counter\n"
        "edgekv_http_headers_too_large_total%s %llu\n"
        "# HELP edgekv_http_accept_errors_total Failed accept() calls.\n"
        "# TYPE edgekv_http_accept_errors_total counter\n"
        "edgekv_http_accept_errors_total%s %llu\n",
        one, g->nconns, one, g->peak, one, g->lim.max_connections, one,
        (unsigned long long)g->accepted, one, (unsigned long long)g->refused, more,
        (unsigned long long)g->timeouts_request, more, (unsigned long long)g->timeouts_idle, one,
        (unsigned long long)g->too_large, one, (unsigned long long)g->accept_errors);
}

int ekv_http_bearer_ok(struct evhttp_request *req, const char *token)
{
    if (!token)
        return 1;
    const char *h = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
    if (!h || strncmp(h, "Bearer ", 7) != 0)
        return 0;
    h += 7;
    /* Every byte of the longer one is compared: a wrong token's reply time does not tell how
     * much of it was right. */
    size_t a = strlen(h), b = strlen(token), n = a > b ? a : b;
    unsigned char diff = a != b;
    for (size_t i = 0; i < n; i++)
        diff |= (unsigned char)((i < a ? h[i] : 0) ^ (i < b ? token[i] : 0));
    return diff == 0;
}

void ekv_http_unauthorized(struct evhttp_request *req)
{
    struct evkeyvalq *out = evhttp_request_get_output_headers(req);
    evhttp_add_header(out, "WWW-Authenticate", "Bearer realm=\"edgekv\"");
    evhttp_add_header(out, "Content-Type", "application/json");
    struct evbuffer *b = evbuffer_new();
    evbuffer_add_printf(b, "{\"error\": \"missing or wrong bearer token\"}\n");
    evhttp_send_reply(req, 401, "Unauthorized", b);
    evbuffer_free(b);
}

int ekv_http_version_ok(struct evhttp_request *req)
{
    /* evhttp answers with the request's own version, and keeps its minor number in a char:
     * "HTTP/0.9" would be echoed, "HTTP/1.160" sent back as "HTTP/1.-96". */
    if (req->major == 1 && (req->minor == 0 || req->minor == 1))
        return 1;
    req->major = 1;
    req->minor = 1;
    evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
    evhttp_send_error(req, 505, "HTTP Version Not Supported");
    return 0;
}
