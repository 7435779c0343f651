/* evhttp_floor: the least an evhttp server can do per cached read, for scripts/bench/node-read.
 *
 *   evhttp_floor PORT [--plain] [--flush]
 *
 * One event_base, one evhttp on 127.0.0.1:PORT, one generic callback that answers every
 * request with the same 100-byte body and the headers a PoP's cache hit sends (node/http.c
 * send_item: CF-Cache-Status, X-Edgekv-Version, X-Edgekv-Commit-Us, X-Edgekv-Age-Ms,
 * Content-Type; evhttp adds Date and Content-Length as it does for the PoP). No cache, no
 * query or path parsing, no connection guard: what remains is evhttp's own work (parsing the
 * request line and headers, the request object, formatting the reply, the bufferevent).
 * Header values are constants of the PoP's lengths; a real server formats them per request.
 *
 * By default the cheapest settings libevent 2.1 offers that made a difference or cost nothing
 * (docs/performance-log.md, 2026-12-07 00:20): an epoll changelist, no locking, GET only,
 * no default content type, lingering close off. --plain runs evhttp with its defaults instead.
 *
 * --flush writes each reply to the socket at once from the callback, then lets evhttp finish
 * the request as if the write event had fired: evhttp's enabling and disabling of the write
 * event then cancel out in the changelist within one loop turn, saving the two epoll_ctl
 * calls and the writable wakeup of every request. This is a design an evhttp server
 * could adopt, not evhttp's own behaviour; it is measured apart.
 *
 * Runs until SIGINT or SIGTERM. */
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BODY_BYTES 100

typedef struct {
    char body[BODY_BYTES]; /* the cached value every reply carries */
    int flush;             /* --flush: write the reply from the callback */
} floor_t;

/* The reply is in the bufferevent's output: write it now, and run evhttp's write callback as
 * though the socket had reported it writable and drained. evhttp finishes the request there
 * and then (frees it, starts reading the next): safe from the request callback in 2.1, which
 * touches neither the request nor the connection after calling it. What the socket did not
 * take is left for the write event, as evhttp would have done. */
static void flush_now(struct evhttp_request *req)
{
    struct evhttp_connection *evcon = evhttp_request_get_connection(req);
    struct bufferevent *bev = evhttp_connection_get_bufferevent(evcon);
    struct evbuffer *out = bufferevent_get_output(bev);
    if (evbuffer_write(out, bufferevent_getfd(bev)) < 0 || evbuffer_get_length(out) > 0)
        return;
    bufferevent_trigger(bev, EV_WRITE, 0);
}

static void on_request(struct evhttp_request *req, void *arg)
{
    floor_t *f = arg;
    struct evkeyvalq *h = evhttp_request_get_output_headers(req);
    evhttp_add_header(h, "CF-Cache-Status", "HIT");
    evhttp_add_header(h, "X-Edgekv-Version", "2");
    evhttp_add_header(h, "X-Edgekv-Commit-Us", "1796601600000000");
    evhttp_add_header(h, "X-Edgekv-Age-Ms", "1234.567");
    evhttp_add_header(h, "Content-Type", "application/octet-stream");
    evbuffer_add(evhttp_request_get_output_buffer(req), f->body, sizeof f->body);
    evhttp_send_reply(req, 200, "OK", NULL);
    if (f->flush)
        flush_now(req);
}

static void on_signal(evutil_socket_t sig, short what, void *arg)
{
    (void)sig;
    (void)what;
    event_base_loopbreak(arg);
}

static struct event_base *base_new(int plain)
{
    if (plain)
        return event_base_new();
    struct event_config *ec = event_config_new();
    event_config_set_flag(ec, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST | EVENT_BASE_FLAG_NOLOCK);
    struct event_base *base = event_base_new_with_config(ec);
    event_config_free(ec);
    return base;
}

int main(int argc, char **argv)
{
    floor_t f = {.flush = 0};
    int plain = 0, port = argc > 1 ? atoi(argv[1]) : 0;
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "--plain"))
            plain = 1;
        else if (!strcmp(argv[i], "--flush"))
            f.flush = 1;
        else
            port = 0;
    }
    if (port <= 0 || port > 65535) {
        fprintf(stderr, "usage: evhttp_floor PORT [--plain] [--flush]\n");
        return 2;
    }
    memset(f.body, 'v', sizeof f.body);
    signal(SIGPIPE, SIG_IGN);
    struct event_base *base = base_new(plain);
    struct evhttp *http = base ? evhttp_new(base) : NULL;
    if (!http) {
        fprintf(stderr, "evhttp_floor: no event base\n");
        return 1;
    }
    if (!plain) {
        evhttp_set_allowed_methods(http, EVHTTP_REQ_GET);
        evhttp_set_default_content_type(http, NULL);
        evhttp_set_flags(http, 0); /* no EVHTTP_SERVER_LINGERING_CLOSE */
    }
    evhttp_set_gencb(http, on_request, &f);
    int rc = 1;
    if (!evhttp_bind_socket_with_handle(http, "127.0.0.1", (ev_uint16_t)port)) {
        fprintf(stderr, "evhttp_floor: cannot listen on 127.0.0.1:%d\n", port);
        goto out;
    }
    struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
    struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
    event_add(sigint, NULL);
    event_add(sigterm, NULL);
    event_base_dispatch(base);
    event_free(sigint);
    event_free(sigterm);
    rc = 0;
out:
    evhttp_free(http);
    event_base_free(base);
    return rc;
}
